// Every grace period of a run in one table, each with the reason for its value, and the one place
// that adds them up: how long a run can take, given its `timeout`. The ping's deadline is
// `timeout` itself (run/facts.ts); everything here is what may still come on top of it, or what
// waits inside it for a sign the run already expects.

// ── Stopping the worker (run/session.ts picks one; celery/worker-process.ts applies it) ──────────

/**
 * A worker that answered the ping gets this long for its warm shutdown before it is killed. An
 * idle worker stops in well under 2 s (celery/quickstop.py takes out Celery 5.7's 3–5 s of idle
 * waits); the rest is for tasks of the app the worker took from its queues during the run, which
 * a warm shutdown finishes first. Killing it sooner loses them: on kombu's sqla transport a message
 * the worker took and did not finish is never delivered again.
 */
export const HEALTHY_STOP_GRACE_MS = 10_000
/** A worker that never worked only has to release its connections. */
export const BROKEN_STOP_GRACE_MS = 2000
/** A cancelled run must write its report and stop inside the runner's 7.5 s window (SIGINT → SIGTERM → kill). */
export const CANCEL_GRACE_MS = 4000
/**
 * After SIGKILL to the worker's process group, how long the stop waits for the exit to be seen: a
 * killed process is reaped at once; the bound only keeps a stuck pipe from holding the run.
 */
export const KILL_WAIT_MS = 2000
/**
 * After the worker exits, how long its output streams may take to end (its last lines are the
 * evidence): a pool child that outlives the parent may hold the pipes open.
 */
export const OUTPUT_DRAIN_MS = 200

// ── Waiting for answers inside the run ──────────────────────────────────────────────────────────

/** After the run's pong, how long the app's queues and the probe task may take to answer (capped by the deadline). */
export const EXTRAS_GRACE_MS = 5000
/** How long the worker may take to print its own refusal once the cause is already known. */
export const REFUSAL_GRACE_MS = 5000
/** How long the result backend's database may stay unreachable: a restart takes a second or two. */
export const DB_LOST_GRACE_MS = 8000
/** How long a task the worker logged as succeeded may take to show its result row (one commit). */
export const RESULT_ROW_GRACE_MS = 3000
/** How long the dlq probe's dead-letter row may take to appear after its failure is stored. */
export const DLQ_ROW_GRACE_MS = 3000
/** How long after the pong late log lines about it (the task's success) may take to be printed. */
export const LOG_SETTLE_MS = 300

// ── After the run ───────────────────────────────────────────────────────────────────────────────

/**
 * Pull-request feedback (comment, check run) must not hold the step up: every request together,
 * retries included, gets this long; then the step ends with a warning.
 */
export const FEEDBACK_TIMEOUT_MS = 30_000
/** The post step: the warm shutdown a kept worker (or anything left of the run) gets, as HEALTHY_STOP_GRACE_MS. */
export const POST_WARM_SHUTDOWN_MS = HEALTHY_STOP_GRACE_MS
/** The post step: how long it keeps killing what is left of the run before it gives up. */
export const POST_KILL_CONFIRM_MS = 3000
/**
 * Seconds the command the CLI prints for a kept worker (cli/stop-command.ts) waits for its warm
 * shutdown before it kills the group: the worker may still be running the user's tasks, which
 * finish first (35 real tasks stopped well inside it; test/integration/trust-keep-worker-stop.test.ts).
 */
export const KEPT_WORKER_STOP_GRACE_S = 30

/**
 * The longest a run may take, in milliseconds, from its `timeout` input: the ping's deadline, then
 * every bounded wait that can still follow it, one after the other — the dlq probe's row, the
 * healthy worker's warm shutdown and the kill after it, and (with a token) the feedback. The SQL
 * checks in between are quick on a database that answers (each bounded by its statement timeout)
 * and are not counted. Tests allow `timeout` plus this much beyond it (test/support/reliability.ts).
 */
export function worstCaseRunMs(timeoutSeconds: number, options: { feedback?: boolean } = {}): number {
  return timeoutSeconds * 1000 + DLQ_ROW_GRACE_MS + HEALTHY_STOP_GRACE_MS + KILL_WAIT_MS + (options.feedback ? FEEDBACK_TIMEOUT_MS : 0)
}
