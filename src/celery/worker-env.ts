// What the worker — pull-request code — is given to run with: the job's environment, as a `run:`
// step of the same job would see it, minus what belongs to the runner and to this step.
//
// A node action is handed more than a `run:` step (actions/runner, NodeScriptActionHandler.cs and
// Handler.cs): its inputs as INPUT_* (our token and DSN among them), the runtime's credentials
// (ACTIONS_RUNTIME_TOKEN/URL, ACTIONS_CACHE_URL, ACTIONS_RESULTS_URL, and the OIDC request
// ACTIONS_ID_TOKEN_REQUEST_TOKEN/URL, which mint tokens for cloud accounts), and — as every step
// — the step's command files: GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH, GITHUB_STATE and
// GITHUB_STEP_SUMMARY. Writing to those sets outputs, environment and PATH of later steps,
// the state our post step reads, or the summary, so the worker must not have them. The post step
// also gets STATE_* (what the main step saved). GITHUB_TOKEN/GH_TOKEN (and the gh CLI's
// enterprise spellings) are only ever set by a workflow that wants some step to have a token; the
// worker does not need one to be tested, so it gets one only when named in `worker-env`.
//
// Kept: everything else a `run:` step also gets — GITHUB_WORKSPACE, GITHUB_SHA, GITHUB_REF,
// GITHUB_EVENT_PATH (the event payload is public to the job), RUNNER_TEMP, RUNNER_TRACKING_ID
// (the runner kills what carries it at the end of the job: a safety net for a kept worker), PATH,
// HOME, CI, and the app's own variables (DATABASE_URL …) from the job's or step's `env:`.
// The CLI applies the same rule: a user's shell has no INPUT_*, but often a GITHUB_TOKEN.

/** Prefixes of names that are never passed on unless named in `worker-env`. */
const DROPPED_PREFIXES = ['INPUT_', 'ACTIONS_', 'STATE_'] as const

/** Names that are never passed on unless named in `worker-env`. */
const DROPPED_NAMES = new Set([
  'GITHUB_OUTPUT',
  'GITHUB_ENV',
  'GITHUB_PATH',
  'GITHUB_STATE',
  'GITHUB_STEP_SUMMARY',
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'GITHUB_ENTERPRISE_TOKEN',
  'GH_ENTERPRISE_TOKEN'
])

/** Our own variables: set by us for this worker, never inherited (a nested run must not share them). */
const OWN_PREFIX = 'CELERY_FOUNDATION_GATES_'

/** A POSIX environment variable name, as `worker-env` accepts them. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Whether the rule keeps `name` from the worker (before `worker-env` is applied). */
export function isWithheld(name: string): boolean {
  const upper = name.toUpperCase()
  return DROPPED_NAMES.has(upper) || DROPPED_PREFIXES.some((p) => upper.startsWith(p)) || upper.startsWith(OWN_PREFIX)
}

/**
 * The worker's environment: `inherited` without what the rule withholds (except names listed in
 * `passThrough`), then `own` — what the worker needs from us — on top. Pure: no process.env read.
 */
export function workerEnvironment(
  inherited: Readonly<Record<string, string | undefined>>,
  passThrough: readonly string[],
  own: Readonly<Record<string, string>>
): Record<string, string> {
  const wanted = new Set(passThrough)
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(inherited)) {
    if (value === undefined) continue
    if (isWithheld(name) && !wanted.has(name)) continue
    env[name] = value
  }
  return { ...env, ...own }
}
