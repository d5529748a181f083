import { gateOutcome, type Gate } from './gate.js'

export const importGate: Gate = {
  id: 'import',
  title: 'Import',
  description: 'The app imports in `python` from `working-directory`, as `celery -A` loads it',
  foundation: true,
  needs: [],
  async run({ settings, facts }) {
    const outcome = await facts.probe()
    if (outcome.ok) {
      const p = outcome.probe
      const v = p.versions
      return gateOutcome(
        'pass',
        `\`${settings.app}\` imported in ${p.seconds.toFixed(2)} s: Python ${v.python}, Celery ${v.celery ?? '?'}, kombu ${v.kombu ?? '?'}` +
          `\n${p.tasks.filter((t) => !t.startsWith('celery.')).length} tasks registered`
      )
    }
    if (outcome.kind === 'import-error')
      return gateOutcome(
        'fail',
        `\`${settings.app}\` does not import: ${outcome.error.message}\ncheck that python has the app's dependencies and that working-directory is where the app is importable (traceback in the details)`,
        outcome.error.traceback
      )
    return gateOutcome('fail', outcome.message, outcome.details)
  }
}
