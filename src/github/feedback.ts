// Pull-request feedback through the GitHub API: one comment per pull request (found again by its
// hidden marker and updated on reruns) and, when asked, a check run whose conclusion follows the
// verdict. The job summary already has everything, so feedback is a courtesy: whatever goes
// wrong here — a fork's read-only token, a missing permission, an unreachable API — becomes one
// warning, and the step's outcome stays the gates'.
import { appendFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { DEFAULT_ANNOTATION_PATH, commentMarker, renderCheckRunOutput, renderNotice, renderPrComment, type CheckRunOutput } from '../report/comment.js'
import type { RunReport } from '../report/model.js'
import { FEEDBACK_TIMEOUT_MS } from '../timing.js'
import { DeadlineError, deadlineIn, githubClient, type GitHubClient } from './client.js'
import { upsertComment } from './pr-comment.js'
import { maskingLog, maskingRedaction, redactReport, type FeedbackLog } from './redaction.js'
import { provenance, provenanceSentence, type Provenance } from './revision.js'
import { workflowFile } from './workflow.js'

export interface FeedbackOptions {
  token: string
  prComment: boolean
  checkRun: boolean
  marker: string
  /**
   * Applied to every text of the report before it is rendered and sent (the run's secret
   * registry); the token is masked whatever this does.
   */
  redact?: (text: string) => string
  /** How long all requests together may take, retries included; `FEEDBACK_TIMEOUT_MS` by default. */
  timeoutMs?: number
  /**
   * Where the gates ran (the working directory): its git checkout tells which commit they
   * proved. GITHUB_WORKSPACE, else the current directory, when not given.
   */
  workingDirectory?: string
}

export type { FeedbackLog } from './redaction.js'

export interface FeedbackOutcome {
  comment?: { action: 'created' | 'updated'; id: number; url?: string; ignoredAuthors?: string[] }
  checkRun?: { id: number; conclusion: string }
  /** What was not published, and why. */
  skipped?: string
}

/** The check run's name: what branch protection requires. */
export const CHECK_RUN_NAME = 'Celery foundation gates'

const PULL_REQUEST_EVENTS: ReadonlySet<string> = new Set(['pull_request', 'pull_request_target'])

/** The permission each kind of feedback needs, for the warning when the token lacks it. */
const PERMISSION_NEEDED = { comment: 'pull-requests: write', checkRun: 'checks: write' } as const

/** What the run's environment says about where feedback goes. */
interface RunContext {
  eventName: string
  owner: string
  repo: string
  apiUrl: string
  runUrl?: string
  /** The commit the check run is for: the pull request's head, else the run's commit. */
  headSha?: string
  /** GITHUB_SHA: on `pull_request`, the merge commit GitHub made for the pull request. */
  runSha?: string
  /** The pull request's head commit, from the event. */
  pullRequestHead?: string
  annotationPath: string
  /** On pull-request events: the pull request, or why it could not be read. */
  pullRequest?: PullRequestInfo | { problem: string }
}

interface PullRequestInfo {
  number: number
  /** The fork it comes from; undefined when head and base are the same repository. */
  fork?: string
}

/** A kind of feedback that could not be published, and why, for the one warning. */
interface Failure {
  what: string
  reason: string
}

/**
 * Publishes the comment and the check run the options ask for. Never throws and never fails the
 * step: each problem ends up in at most one warning, and the outcome says what was skipped.
 */
export async function publishFeedback(
  report: RunReport,
  options: FeedbackOptions,
  log: FeedbackLog,
  env: NodeJS.ProcessEnv = process.env
): Promise<FeedbackOutcome> {
  const safeLog = maskingLog(log, options.token)
  try {
    return await publish(report, options, safeLog, env)
  } catch (error) {
    // Every expected failure is handled where it happens; this is the net for a bug.
    const skipped = `feedback failed unexpectedly: ${describeError(error)}`
    safeLog.warning(`Pull-request feedback went to the job summary only: ${skipped}.`)
    return { skipped }
  }
}

async function publish(report: RunReport, options: FeedbackOptions, log: FeedbackLog, env: NodeJS.ProcessEnv): Promise<FeedbackOutcome> {
  if (!options.prComment && !options.checkRun) {
    log.info('Pull-request feedback is off (pr-comment and check-run are both false).')
    return { skipped: 'neither a pull-request comment nor a check run was asked for' }
  }
  if (options.token === '') {
    log.info('No github-token: the gate matrix is in the job summary only.')
    return { skipped: 'no github-token' }
  }
  const context = await readRunContext(env)
  if ('problem' in context) return summaryOnly(context.problem, log)
  const fork = forkOf(context)
  // GitHub gives pull_request runs from forks a read-only token (pull_request_target runs get
  // the base repository's): a write could only fail, so none is tried.
  if (fork !== undefined && context.eventName === 'pull_request') {
    return summaryOnly(
      `the pull request comes from the fork ${fork}, and GitHub gives workflows run on pull_request events from forks a read-only token, so no comment or check run can be written`,
      log
    )
  }

  const deadline = deadlineIn(options.timeoutMs ?? FEEDBACK_TIMEOUT_MS)
  // What the gates proved matters where a verdict is attached to a commit or a pull request.
  const attachesVerdict = options.checkRun || context.pullRequest !== undefined
  const proof = !attachesVerdict
    ? undefined
    : await provenance({
        eventName: context.eventName,
        ...(context.pullRequestHead === undefined ? {} : { pullRequestHead: context.pullRequestHead }),
        ...(context.runSha === undefined ? {} : { runSha: context.runSha }),
        dir: options.workingDirectory ?? env.GITHUB_WORKSPACE ?? process.cwd(),
        deadlineAt: deadline.at
      })
  const redact = maskingRedaction(options)
  // A path may be part of it (when the checkout could not be read): redacted like any text sent.
  const notProven = proof !== undefined && !proof.proves ? redact(provenanceSentence(proof, context.pullRequestHead !== undefined)) : undefined
  if (notProven !== undefined) {
    const consequence = options.checkRun ? `: no check run was created for ${proof?.target}` : ''
    // Not "check out the head": on pull_request_target that hands the pull request a write token.
    const advice =
      context.pullRequestHead === undefined
        ? ''
        : ` To prove a pull request's code, run this step on pull_request events (see "Security" in the action's README).`
    log.warning(`Celery foundation gates: ${notProven}${consequence}.${advice}`)
    appendToSummary(env, renderNotice(notProven), log)
  }

  const client = githubClient(options.token, context.apiUrl, deadline)
  const safeReport = redactReport(report, redact)
  // Rendered before the first request: a huge report takes seconds to render, and a connection
  // left idle that long may be closed under the next request (ECONNRESET, seen in CI).
  const checkRunOutput = options.checkRun && notProven === undefined ? renderCheckRunOutput(safeReport, { annotationPath: context.annotationPath }) : undefined
  const outcome: FeedbackOutcome = {}
  const skipped: string[] = []
  const failures: Failure[] = []
  if (options.prComment) {
    const result = await publishComment(client, context, safeReport, options.marker, notProven)
    if ('notApplicable' in result) {
      log.info(`No pull-request comment: ${result.notApplicable}.`)
      skipped.push(`pull-request comment: ${result.notApplicable}`)
    } else if ('failure' in result) {
      failures.push(result.failure)
    } else {
      outcome.comment = result.value
      log.info(`Pull-request comment ${result.value.action}${result.value.url === undefined ? '' : `: ${result.value.url}`}`)
      if (result.value.ignoredAuthors !== undefined) {
        log.info(
          `A comment carrying this step's marker by ${result.value.ignoredAuthors.join(', ')} was ignored: only comments this token's own account wrote are updated.`
        )
      }
    }
  }
  if (options.checkRun && notProven !== undefined) skipped.push(`check run: ${notProven}`)
  if (checkRunOutput) {
    const result = await attempt('check run', PERMISSION_NEEDED.checkRun, () => createCheckRun(client, context, safeReport, checkRunOutput))
    if ('failure' in result) {
      failures.push(result.failure)
    } else {
      outcome.checkRun = result.value
      log.info(`Check run "${CHECK_RUN_NAME}" created on ${context.headSha ?? '?'}${proofNote(proof)}: ${result.value.conclusion}.`)
    }
  }
  if (failures.length > 0) warnOnce(failures, outcome, log)
  skipped.push(...failures.map(failureLine))
  return skipped.length > 0 ? { ...outcome, skipped: skipped.join('; ') } : outcome
}

/** How the commit that ran relates to the one the check run marks, when they differ. */
function proofNote(proof: Provenance | undefined): string {
  if (proof === undefined || proof.relation === 'same commit' || 'problem' in proof.ran) return ''
  return ` (the gates ran on ${proof.ran.sha}, the ${proof.relation})`
}

/** The job summary was written before feedback; a notice about what it proved is added after it. */
function appendToSummary(env: NodeJS.ProcessEnv, markdown: string, log: FeedbackLog): void {
  const file = env.GITHUB_STEP_SUMMARY
  if (!file) return
  try {
    appendFileSync(file, `\n${markdown}\n`)
  } catch (error) {
    log.info(`The job summary could not be extended: ${describeError(error)}`)
  }
}

/** When nothing can be published: the one warning, and the outcome that says why. */
function summaryOnly(reason: string, log: FeedbackLog): FeedbackOutcome {
  log.warning(`Pull-request feedback went to the job summary only: ${reason}.`)
  return { skipped: reason }
}

/** The one warning for everything that could not be published. */
function warnOnce(failures: readonly Failure[], outcome: FeedbackOutcome, log: FeedbackLog): void {
  const published = outcome.comment !== undefined || outcome.checkRun !== undefined
  const subject = published ? 'Part of the pull-request feedback' : 'Pull-request feedback'
  log.warning(`${subject} went to the job summary only — ${failures.map(failureLine).join('; ')}.`)
}

function failureLine({ what, reason }: Failure): string {
  return `${what}: ${reason}`
}

/** The comment, on pull-request events only. */
async function publishComment(
  client: GitHubClient,
  context: RunContext,
  report: RunReport,
  marker: string,
  notice: string | undefined
): Promise<{ notApplicable: string } | { value: NonNullable<FeedbackOutcome['comment']> } | { failure: Failure }> {
  const { pullRequest, owner, repo, runUrl } = context
  if (pullRequest === undefined) return { notApplicable: `this run is for a ${context.eventName || 'unknown'} event, not a pull request` }
  if ('problem' in pullRequest) return { failure: { what: 'pull-request comment', reason: pullRequest.problem } }
  return attempt('pull-request comment', PERMISSION_NEEDED.comment, () => {
    const body = renderPrComment(report, { marker, ...(runUrl === undefined ? {} : { runUrl }), ...(notice === undefined ? {} : { notice }) })
    return upsertComment(client, { owner, repo, issue_number: pullRequest.number }, commentMarker(marker), body)
  })
}

// ---- the run's environment ----

/** Reads the event and the repository from the environment the runner gives the step. */
async function readRunContext(env: NodeJS.ProcessEnv): Promise<RunContext | { problem: string }> {
  const [owner, repo, ...rest] = (env.GITHUB_REPOSITORY ?? '').split('/')
  if (!owner || !repo || rest.length > 0) {
    return {
      problem: `GITHUB_REPOSITORY is ${env.GITHUB_REPOSITORY ? `"${env.GITHUB_REPOSITORY}", not owner/repo` : 'not set (not running on GitHub Actions?)'}`
    }
  }
  const apiUrl = env.GITHUB_API_URL || 'https://api.github.com'
  if (!URL.canParse(apiUrl)) return { problem: `GITHUB_API_URL is not a URL: "${apiUrl}"` }
  const eventName = env.GITHUB_EVENT_NAME ?? ''
  const payload = PULL_REQUEST_EVENTS.has(eventName) ? await readPayload(env.GITHUB_EVENT_PATH) : undefined
  const context: RunContext = { eventName, owner, repo, apiUrl, annotationPath: workflowFile(env) ?? DEFAULT_ANNOTATION_PATH }
  const runUrl = runPageUrl(env)
  if (runUrl !== undefined) context.runUrl = runUrl
  if (payload !== undefined) context.pullRequest = 'problem' in payload ? payload : pullRequestOf(payload.json, `${owner}/${repo}`)
  const pullRequestHead = pullRequestHeadSha(payload)
  if (pullRequestHead !== undefined) context.pullRequestHead = pullRequestHead
  if (env.GITHUB_SHA) context.runSha = env.GITHUB_SHA
  const headSha = pullRequestHead ?? env.GITHUB_SHA
  if (headSha) context.headSha = headSha
  return context
}

async function readPayload(path: string | undefined): Promise<{ json: unknown } | { problem: string }> {
  if (!path) return { problem: 'GITHUB_EVENT_PATH is not set, so the pull request is not known' }
  try {
    return { json: JSON.parse(await readFile(path, 'utf8')) as unknown }
  } catch (error) {
    return { problem: `the event payload (GITHUB_EVENT_PATH) could not be read: ${describeError(error)}` }
  }
}

/** The pull request's number, and the fork it comes from (a deleted fork's head repo is null). */
function pullRequestOf(payload: unknown, repository: string): PullRequestInfo | { problem: string } {
  const pr = field(payload, 'pull_request')
  const number = field(pr, 'number')
  if (typeof number !== 'number' || !Number.isInteger(number) || number <= 0) {
    return { problem: 'the event payload has no pull_request.number' }
  }
  const head = field(field(field(pr, 'head'), 'repo'), 'full_name')
  const base = field(field(field(pr, 'base'), 'repo'), 'full_name')
  const baseName = typeof base === 'string' ? base : repository
  if (typeof head === 'string' && head.toLowerCase() === baseName.toLowerCase()) return { number }
  return { number, fork: typeof head === 'string' ? head : 'a deleted repository' }
}

function pullRequestHeadSha(payload: { json: unknown } | { problem: string } | undefined): string | undefined {
  if (payload === undefined || 'problem' in payload) return undefined
  const sha = field(field(field(payload.json, 'pull_request'), 'head'), 'sha')
  return typeof sha === 'string' && sha !== '' ? sha : undefined
}

function forkOf({ pullRequest }: RunContext): string | undefined {
  return pullRequest !== undefined && 'number' in pullRequest ? pullRequest.fork : undefined
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined
}

/** The run's page (this attempt's, on a rerun), whose job summary has everything. */
function runPageUrl(env: NodeJS.ProcessEnv): string | undefined {
  const { GITHUB_SERVER_URL: server = 'https://github.com', GITHUB_REPOSITORY: repository, GITHUB_RUN_ID: runId } = env
  if (!repository || !runId || !/^\d+$/.test(runId)) return undefined
  const attempt = env.GITHUB_RUN_ATTEMPT && /^\d+$/.test(env.GITHUB_RUN_ATTEMPT) ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : ''
  return `${server.replace(/\/+$/, '')}/${repository}/actions/runs/${runId}${attempt}`
}

// ---- the API ----

async function createCheckRun(
  client: GitHubClient,
  context: RunContext,
  report: RunReport,
  output: CheckRunOutput
): Promise<NonNullable<FeedbackOutcome['checkRun']>> {
  if (context.headSha === undefined) throw new Error('GITHUB_SHA is not set, so there is no commit to attach the check run to')
  const conclusion = checkRunConclusion(report)
  const { data } = await client.rest.checks.create({
    owner: context.owner,
    repo: context.repo,
    name: CHECK_RUN_NAME,
    head_sha: context.headSha,
    status: 'completed',
    conclusion,
    started_at: report.startedAt,
    completed_at: report.finishedAt,
    external_id: report.runId,
    ...(context.runUrl === undefined ? {} : { details_url: context.runUrl }),
    output
  })
  return { id: data.id, conclusion }
}

function checkRunConclusion(report: RunReport): 'success' | 'failure' | 'cancelled' {
  if (report.interrupted?.kind === 'cancelled') return 'cancelled'
  return report.verdict === 'pass' ? 'success' : 'failure'
}

/** Runs one kind of feedback; its failure, whatever it is, becomes a reason for the warning. */
async function attempt<T>(what: string, permission: string, publishIt: () => Promise<T>): Promise<{ value: T } | { failure: Failure }> {
  try {
    return { value: await publishIt() }
  } catch (error) {
    return { failure: { what, reason: describeFailure(error, permission) } }
  }
}

function describeFailure(error: unknown, permission: string): string {
  // Its message already says what the last answer was, and that retrying would take too long.
  if (error instanceof DeadlineError) return error.message
  const status = httpStatus(error)
  if ((status === 403 || status === 429) && /rate limit/i.test(describeError(error))) {
    return `GitHub's rate limit (HTTP ${status}: ${describeError(error)}), and waiting it out would pass the feedback deadline`
  }
  if (status === 403 || status === 404) {
    // What GitHub answers a token that may not write here: a fork's, or one without the permission.
    return `the token may not write it (HTTP ${status}: ${describeError(error)}); the job needs \`permissions: ${permission}\``
  }
  return status === undefined ? describeError(error) : `HTTP ${status}: ${describeError(error)}`
}

/** The HTTP status GitHub answered, or undefined when there was no answer (network, timeout). */
function httpStatus(error: unknown): number | undefined {
  const response = field(error, 'response')
  const status = field(response, 'status')
  return typeof status === 'number' ? status : undefined
}

/** The error's first line, without what Octokit appends (a documentation link). */
function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const cause = field(error, 'cause')
  const line = (message.split('\n')[0] ?? '').replace(/ - https:\/\/docs\.github\.com\S*$/, '').trim()
  if (field(cause, 'name') === 'TimeoutError') return 'no answer in time (the feedback deadline passed)'
  return line === '' ? 'unknown error' : line
}
