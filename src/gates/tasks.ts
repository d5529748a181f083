import { EVIDENCE_LIST_ITEMS, linesWithMore, listWithMore } from '../util/bounded.js'
import { gateOutcome, type Gate } from './gate.js'

export const tasksGate: Gate = {
  id: 'tasks',
  title: 'Tasks',
  description: 'The tasks the app registers are the tasks the worker registered (its own list), including every expected task',
  foundation: true,
  needs: ['import'],
  async run({ settings, facts }) {
    const outcome = await facts.probe()
    if (!outcome.ok) return gateOutcome('fail', 'the app did not import')
    await facts.ping() // the worker has printed its banner (with its task list) by then
    const listed = facts.lines.bannerTasks
    if (!listed) return gateOutcome('skip', 'not run: the worker printed no task list (it did not get as far as its banner)')
    // Celery leaves its own tasks (celery.*) out of the banner; so does this comparison.
    const worker = new Set(listed.filter((t) => !t.startsWith('celery.')))
    const app = new Set(outcome.probe.tasks.filter((t) => !t.startsWith('celery.')))
    const onlyApp = [...app].filter((t) => !worker.has(t))
    const onlyWorker = [...worker].filter((t) => !app.has(t))
    const missing = settings.expectedTasks.filter((t) => !worker.has(t) && !(t.startsWith('celery.') && outcome.probe.tasks.includes(t)))
    const problems = [
      ...missing.map((t) => `expected task ${t} is not registered in the worker — is its module in the app's include list?`),
      ...onlyApp.map((t) => `${t} is registered in the app but not in the worker`)
    ]
    const lines = [`${worker.size} tasks registered in the worker${onlyApp.length ? '' : ', as the app defines them'}`]
    if (settings.expectedTasks.length && !missing.length) lines.push(`all ${settings.expectedTasks.length} expected tasks registered`)
    if (onlyWorker.length)
      lines.push(`also in the worker (from its -I/--include): ${listWithMore(onlyWorker, { noun: ['task', 'tasks'], where: "see the gate's details" })}`)
    // An app can register thousands of tasks: the evidence has the first problems and says how
    // many more; the details have them all.
    const cut = problems.length > EVIDENCE_LIST_ITEMS || onlyWorker.length > EVIDENCE_LIST_ITEMS
    const details = cut ? [...problems, ...(onlyWorker.length ? ['Also in the worker:', ...onlyWorker] : [])].join('\n') : undefined
    const shown = linesWithMore(problems, { noun: ['problem', 'problems'], where: "see the gate's details" })
    return problems.length ? gateOutcome('fail', [...shown, ...lines].join('\n'), details) : gateOutcome('pass', lines.join('\n'), details)
  }
}
