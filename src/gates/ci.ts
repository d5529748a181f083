import { verdict, type Gate } from './gate.js'

export const ciGate: Gate = {
  id: 'ci',
  title: 'CI',
  description: 'This step fails the job when a foundation gate fails, so a required check blocks the merge',
  foundation: false,
  needs: [],
  async run({ settings }) {
    const event = process.env.GITHUB_EVENT_NAME
    const where = process.env.GITHUB_ACTIONS === 'true' ? `on ${event ?? 'an unknown event'}` : 'outside GitHub Actions'
    if (settings.failOn === 'never')
      return verdict('warn', `fail-on: never: this step only reports and never fails, so it cannot block a merge (${where})`)
    return verdict('pass', `fail-on: ${settings.failOn}: this step fails when a foundation gate fails (${where})`)
  }
}
