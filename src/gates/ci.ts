import { gateOutcome, type Gate } from './gate.js'

export const ciGate: Gate = {
  id: 'ci',
  title: 'CI',
  description: 'This step fails the job when a foundation gate fails, so a required check blocks the merge; failing tests are told apart',
  foundation: false,
  needs: [],
  judgesRun: true,
  async run({ settings, facts, earlier }) {
    const event = process.env.GITHUB_EVENT_NAME
    const where = process.env.GITHUB_ACTIONS === 'true' ? `on ${event ?? 'an unknown event'}` : 'outside GitHub Actions'
    const mode =
      settings.failOn === 'never'
        ? `fail-on: never: this step only reports and never fails, so it cannot block a merge (${where})`
        : settings.failOn === 'any'
          ? `fail-on: any: this step fails when a foundation gate fails or a test fails (${where})`
          : `fail-on: foundation: this step fails when a foundation gate fails (${where})`
    // The session read and classified the reports before this gate, whatever `gates` lists (this
    // is the same, memoised analysis): the gate only judges what it found.
    const tests = await facts.tests(earlier)
    const foundationRed = earlier.some((g) => g.foundation && g.status === 'fail')
    const lines = [mode]
    if (tests) {
      lines.unshift(tests.verdict)
      const unread = tests.files.filter((f) => f.status !== 'ok').length + tests.unmatched.length
      if (unread) lines.push(`${unread} test report${unread > 1 ? 's' : ''} could not be read (see the taxonomy section)`)
    }
    if (settings.failOn === 'never') return gateOutcome('warn', lines.join('\n'))
    // The seed's "MIXED": the foundation is proven, and the suite is red anyway.
    return gateOutcome(tests && !foundationRed && tests.failed > 0 ? 'warn' : 'pass', lines.join('\n'))
  }
}
