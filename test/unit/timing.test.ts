// The grace periods hold the promises made about them (src/timing.ts), and the worst case of a
// run is `timeout` plus the waits that may follow the ping's deadline.
import { describe, expect, it } from 'vitest'
import { CANCEL_GRACE_MS, DLQ_ROW_GRACE_MS, FEEDBACK_TIMEOUT_MS, HEALTHY_STOP_GRACE_MS, KILL_WAIT_MS, worstCaseRunMs } from '../../src/timing.js'

describe('grace periods', () => {
  it('a cancelled run stops its worker inside the runner’s 7.5 s between SIGINT and the kill', () => {
    expect(CANCEL_GRACE_MS + KILL_WAIT_MS).toBeLessThan(7500)
  })

  it('a healthy worker gets more than the 4–5 s Celery 5.7 needs to stop when idle', () => {
    expect(HEALTHY_STOP_GRACE_MS).toBeGreaterThan(5000)
  })
})

describe('worstCaseRunMs', () => {
  it('is timeout plus the dlq row, the warm shutdown and the kill', () => {
    expect(worstCaseRunMs(60)).toBe(60_000 + DLQ_ROW_GRACE_MS + HEALTHY_STOP_GRACE_MS + KILL_WAIT_MS)
    expect(worstCaseRunMs(1)).toBe(worstCaseRunMs(0) + 1000)
  })

  it('adds the feedback bound when a token is given', () => {
    expect(worstCaseRunMs(60, { feedback: true }) - worstCaseRunMs(60)).toBe(FEEDBACK_TIMEOUT_MS)
  })
})
