// Pull-request feedback through the GitHub API: one comment per pull request (found again by its
// hidden marker and updated on reruns) and, when asked, a check run whose conclusion follows the
// verdict. The job summary already has everything, so feedback is a courtesy: whatever goes
// wrong here — a fork's read-only token, a missing permission, an unreachable API — becomes one
// warning, and the step's outcome stays the gates'.
import { readFile } from 'node:fs/promises'
import { getOctokit } from '@actions/github'
import { DEFAULT_ANNOTATION_PATH, commentMarker, renderCheckRunOutput, renderPrComment, type CheckRunOutput } from '../report/comment.js'
import type { RunReport } from '../report/model.js'
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
  /** How long all requests together may take; `FEEDBACK_TIMEOUT_MS` by default. */
  timeoutMs?: number
}

export interface FeedbackLog {
  info(message: string): void
  warning(message: string): void
}

export interface FeedbackOutcome {
  comment?: { action: 'created' | 'updated'; id: number; url?: string }
  checkRun?: { id: number; conclusion: string }
  /** What was not published, and why. */
  skipped?: string
}

/** The check run's name: what branch protection requires. */
export const CHECK_RUN_NAME = 'Celery foundation gates'

/** Feedback must not hold the step up: every request together gets this long. */
export const FEEDBACK_TIMEOUT_MS = 30_000

const PULL_REQUEST_EVENTS: ReadonlySet<string> = new Set(['pull_request', 'pull_request_target'])

/** Who writes a comment with the workflow's own GITHUB_TOKEN. */
const ACTIONS_BOT_LOGIN = 'github-actions[bot]'

/** The permission each kind of feedback needs, for the warning when the token lacks it. */
const PERMISSION_NEEDED = { comment: 'pull-requests: write', checkRun: 'checks: write' } as const

type GitHubClient = ReturnType<typeof getOctokit>

/** What the run's environment says about where feedback goes. */
interface RunContext {
  eventName: string
  owner: string
  repo: string
  apiUrl: string
  runUrl?: string
  /** The commit the check run is for: the pull request's head, else the run's commit. */
  headSha?: string
  annotationPath: string
  /** On pull-request events: the pull request, or why it could not be read. */
  pullRequest?: PullRequestInfo | { problem: string }
}

interface PullRequestInfo {
  number: number
  /** The fork it comes from; undefined when head and base are the same repository. */
  fork?: string
}

interface IssueComment {
  id: number
  body?: string | null
  html_url?: string
  user?: { login?: string } | null
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

  const client = githubClient(options.token, context.apiUrl, options.timeoutMs ?? FEEDBACK_TIMEOUT_MS)
  const safeReport = redactReport(report, maskingRedaction(options))
  // Rendered before the first request: a huge report takes seconds to render, and a connection
  // left idle that long may be closed under the next request (ECONNRESET, seen in CI).
  const checkRunOutput = options.checkRun ? renderCheckRunOutput(safeReport, { annotationPath: context.annotationPath }) : undefined
  const outcome: FeedbackOutcome = {}
  const skipped: string[] = []
  const failures: Failure[] = []
  if (options.prComment) {
    const result = await publishComment(client, context, safeReport, options.marker)
    if ('notApplicable' in result) {
      log.info(`No pull-request comment: ${result.notApplicable}.`)
      skipped.push(`pull-request comment: ${result.notApplicable}`)
    } else if ('failure' in result) {
      failures.push(result.failure)
    } else {
      outcome.comment = result.value
      log.info(`Pull-request comment ${result.value.action}${result.value.url === undefined ? '' : `: ${result.value.url}`}`)
    }
  }
  if (checkRunOutput) {
    const result = await attempt('check run', PERMISSION_NEEDED.checkRun, () => createCheckRun(client, context, safeReport, checkRunOutput))
    if ('failure' in result) {
      failures.push(result.failure)
    } else {
      outcome.checkRun = result.value
      log.info(`Check run "${CHECK_RUN_NAME}" created: ${result.value.conclusion}.`)
    }
  }
  if (failures.length > 0) warnOnce(failures, outcome, log)
  skipped.push(...failures.map(failureLine))
  return skipped.length > 0 ? { ...outcome, skipped: skipped.join('; ') } : outcome
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
  marker: string
): Promise<{ notApplicable: string } | { value: NonNullable<FeedbackOutcome['comment']> } | { failure: Failure }> {
  const { pullRequest } = context
  if (pullRequest === undefined) return { notApplicable: `this run is for a ${context.eventName || 'unknown'} event, not a pull request` }
  if ('problem' in pullRequest) return { failure: { what: 'pull-request comment', reason: pullRequest.problem } }
  return attempt('pull-request comment', PERMISSION_NEEDED.comment, () =>
    upsertComment(client, context, pullRequest.number, report, marker)
  )
}

// ---- the run's environment ----

/** Reads the event and the repository from the environment the runner gives the step. */
async function readRunContext(env: NodeJS.ProcessEnv): Promise<RunContext | { problem: string }> {
  const [owner, repo, ...rest] = (env.GITHUB_REPOSITORY ?? '').split('/')
  if (!owner || !repo || rest.length > 0) {
    return { problem: `GITHUB_REPOSITORY is ${env.GITHUB_REPOSITORY ? `"${env.GITHUB_REPOSITORY}", not owner/repo` : 'not set (not running on GitHub Actions?)'}` }
  }
  const apiUrl = env.GITHUB_API_URL || 'https://api.github.com'
  if (!URL.canParse(apiUrl)) return { problem: `GITHUB_API_URL is not a URL: "${apiUrl}"` }
  const eventName = env.GITHUB_EVENT_NAME ?? ''
  const payload = PULL_REQUEST_EVENTS.has(eventName) ? await readPayload(env.GITHUB_EVENT_PATH) : undefined
  const context: RunContext = { eventName, owner, repo, apiUrl, annotationPath: workflowFile(env) ?? DEFAULT_ANNOTATION_PATH }
  const runUrl = runPageUrl(env)
  if (runUrl !== undefined) context.runUrl = runUrl
  if (payload !== undefined) context.pullRequest = 'problem' in payload ? payload : pullRequestOf(payload.json, `${owner}/${repo}`)
  const headSha = pullRequestHeadSha(payload) ?? env.GITHUB_SHA
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

/** `owner/repo/.github/workflows/ci.yml@refs/heads/main` → `.github/workflows/ci.yml`. */
/** The run's page (this attempt's, on a rerun), whose job summary has everything. */
function runPageUrl(env: NodeJS.ProcessEnv): string | undefined {
  const { GITHUB_SERVER_URL: server = 'https://github.com', GITHUB_REPOSITORY: repository, GITHUB_RUN_ID: runId } = env
  if (!repository || !runId || !/^\d+$/.test(runId)) return undefined
  const attempt = env.GITHUB_RUN_ATTEMPT && /^\d+$/.test(env.GITHUB_RUN_ATTEMPT) ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : ''
  return `${server.replace(/\/+$/, '')}/${repository}/actions/runs/${runId}${attempt}`
}

// ---- the API ----

/**
 * A client for the API the environment names. `@actions/github` reads GITHUB_API_URL once, when
 * it is first imported, so the base URL is passed explicitly. Its proxy-aware fetch (undici,
 * proxy chosen for the import-time URL) is kept: `request` options are merged shallowly, so
 * passing any would replace it. The deadline is added to each request by a hook instead.
 */
function githubClient(token: string, apiUrl: string, timeoutMs: number): GitHubClient {
  const client = getOctokit(token, { baseUrl: apiUrl.replace(/\/+$/, '') })
  const signal = AbortSignal.timeout(timeoutMs)
  client.hook.before('request', (options) => {
    options.request = { ...options.request, signal }
  })
  return client
}

/** Updates the comment that carries the marker, or creates it: one comment per pull request and marker. */
async function upsertComment(
  client: GitHubClient,
  { owner, repo, runUrl }: RunContext,
  issueNumber: number,
  report: RunReport,
  marker: string
): Promise<NonNullable<FeedbackOutcome['comment']>> {
  const body = renderPrComment(report, runUrl === undefined ? { marker } : { marker, runUrl })
  const existing = await findMarkedComment(client, { owner, repo, issue_number: issueNumber }, commentMarker(marker))
  const { data } =
    existing === undefined
      ? await client.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body })
      : await client.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body })
  return { action: existing === undefined ? 'created' : 'updated', id: data.id, ...(data.html_url ? { url: data.html_url } : {}) }
}

async function findMarkedComment(
  client: GitHubClient,
  issue: { owner: string; repo: string; issue_number: number },
  tag: string
): Promise<IssueComment | undefined> {
  const comments: IssueComment[] = await client.paginate(client.rest.issues.listComments, { ...issue, per_page: 100 })
  const marked = comments.filter((comment) => comment.body?.includes(tag) === true)
  if (marked.length <= 1) return marked[0]
  // Several (a copy, or two runs that raced): the oldest of our own, so reruns keep to one.
  const login = await authenticatedLogin(client)
  return marked.find((comment) => comment.user?.login === login) ?? marked[0]
}

/** Who the token acts as. The workflow's GITHUB_TOKEN may not ask (`GET /user` answers 403). */
async function authenticatedLogin(client: GitHubClient): Promise<string> {
  try {
    return (await client.rest.users.getAuthenticated()).data.login
  } catch {
    return ACTIONS_BOT_LOGIN
  }
}

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
  const status = httpStatus(error)
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

// ---- secrets ----

/** The caller's redaction, then the token's own masking, which no text may escape. */
function maskingRedaction({ token, redact }: FeedbackOptions): (text: string) => string {
  return (text) => maskToken(redact === undefined ? text : redact(text), token)
}

function maskToken(text: string, token: string): string {
  return token !== '' && text.includes(token) ? text.split(token).join('***') : text
}

function maskingLog(log: FeedbackLog, token: string): FeedbackLog {
  return {
    info: (message) => log.info(maskToken(message, token)),
    warning: (message) => log.warning(maskToken(message, token))
  }
}

/** The report with every string redacted, before anything is rendered from it: the limits then hold for what is sent. */
function redactReport(report: RunReport, redact: (text: string) => string): RunReport {
  return redactStrings(report, redact) as RunReport
}

function redactStrings(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return redact(value)
  if (Array.isArray(value)) return value.map((item: unknown) => redactStrings(item, redact))
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactStrings(item, redact)]))
  }
  return value
}
