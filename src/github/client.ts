// The GitHub API client for pull-request feedback: Octokit as @actions/github builds it, plus
// retries for what GitHub answers while it recovers (5xx, a dropped connection: plugin-retry) and
// for its rate limits (403/429 with retry-after: plugin-throttling) — all within one deadline, so
// that a struggling API costs the step a bounded wait and then one warning, never a hang.
import { getOctokit } from '@actions/github'
import type { Octokit } from '@octokit/core'
import { retry } from '@octokit/plugin-retry'
import { throttling } from '@octokit/plugin-throttling'

export type GitHubClient = ReturnType<typeof getOctokit>

/** Attempts after the first for a 5xx or a connection that failed; rate limits get as many. */
export const RETRIES = 2
/** plugin-retry waits (n + 1)² × this before the n-th retry: 1 s, then 4 s. */
export const RETRY_BASE_MS = 1_000

// Statuses that another attempt cannot change (plugin-retry's list), and 429, which
// plugin-throttling handles: it waits as long as GitHub's retry-after says instead of guessing.
const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451]

/** When every request of the feedback must be over. */
export interface Deadline {
  /** Epoch milliseconds. */
  at: number
  signal: AbortSignal
}

export function deadlineIn(ms: number): Deadline {
  return { at: Date.now() + ms, signal: AbortSignal.timeout(ms) }
}

/** A request given up because the deadline passed, or because the wait for its retry would pass it. */
export class DeadlineError extends Error {
  override readonly name = 'DeadlineError'
  /** The status of the last answer, when there was one (what the warning explains). */
  readonly response?: { status: number }
  constructor(message: string, options: { cause?: unknown; status?: number } = {}) {
    super(message, { cause: options.cause })
    if (options.status !== undefined) this.response = { status: options.status }
  }
}

let clients = 0

/**
 * A client for the API the environment names. `@actions/github` reads GITHUB_API_URL once, when
 * it is first imported, so the base URL is passed explicitly. Its proxy-aware fetch (undici,
 * proxy chosen for the import-time URL) is kept: `request` options are merged shallowly, so
 * passing any would replace it. The deadline is added to each attempt by a plugin instead.
 */
export function githubClient(token: string, apiUrl: string, deadline: Deadline): GitHubClient {
  const withinDeadline = (waitS: number, retryCount: number): boolean => retryCount < RETRIES && Date.now() + waitS * 1000 < deadline.at
  return getOctokit(
    token,
    {
      baseUrl: apiUrl.replace(/\/+$/, ''),
      retry: { retries: RETRIES, retryAfterBaseValue: RETRY_BASE_MS, doNotRetry: DO_NOT_RETRY },
      throttle: {
        // Spacing writes (1 s; 3 s for comments, which notify) is per client: one per run.
        id: `celery-foundation-gates-${process.pid}-${clients++}`,
        onRateLimit: (retryAfterS, _options, _octokit, retryCount) => withinDeadline(retryAfterS, retryCount),
        onSecondaryRateLimit: (retryAfterS, _options, _octokit, retryCount) => withinDeadline(retryAfterS, retryCount)
      }
    },
    // Listed first, so its hook is the innermost: it sees each attempt, retries included.
    deadlinePlugin(deadline),
    retry,
    throttling
  )
}

/**
 * Gives each attempt the deadline's signal, refuses an attempt once the deadline has passed, and
 * makes a failure final when the wait plugin-retry would take before the next attempt ends past
 * the deadline (a plain error: plugin-retry retries only the request errors Octokit throws).
 */
function deadlinePlugin(deadline: Deadline) {
  return (octokit: Octokit): void => {
    octokit.hook.wrap('request', async (request, options) => {
      if (Date.now() >= deadline.at || deadline.signal.aborted) throw new DeadlineError('no answer in time (the feedback deadline passed)')
      options.request = { ...options.request, signal: deadline.signal }
      try {
        return await request(options)
      } catch (error) {
        if (deadline.signal.aborted) throw new DeadlineError('no answer in time (the feedback deadline passed)', { cause: error })
        const status = statusOf(error)
        if (status !== undefined && status >= 400 && !DO_NOT_RETRY.includes(status)) {
          const retryCount = Number((options.request as { retryCount?: number }).retryCount ?? 0)
          const waitMs = (retryCount + 1) ** 2 * RETRY_BASE_MS
          if (retryCount < RETRIES && Date.now() + waitMs >= deadline.at) {
            const answer = status === 500 && responseOf(error) === undefined ? firstLine(error) : `HTTP ${status}: ${firstLine(error)}`
            throw new DeadlineError(`${answer} (${retryCount + 1} attempts; another would pass the feedback deadline)`, {
              cause: error,
              ...(responseOf(error) === undefined ? {} : { status })
            })
          }
        }
        throw error
      }
    })
  }
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status
  return typeof status === 'number' ? status : undefined
}

function responseOf(error: unknown): unknown {
  return (error as { response?: unknown } | null)?.response
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return (message.split('\n')[0] ?? '').replace(/ - https:\/\/docs\.github\.com\S*$/, '').trim() || 'unknown error'
}
