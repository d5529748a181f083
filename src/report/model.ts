// The run's report: one plain data structure that every sink renders (job summary, outputs,
// JSON file, terminal). Renderers are pure functions of this object.
//
// The types are the zod schema's (schema.ts), the one description of the report that also
// validates it and writes report.schema.json: declared once, they cannot drift apart. Each field
// is documented there. Type-only imports: nothing here loads zod, which stays off the action's
// start-up path.
import type { z } from 'zod'
import type { GateResultSchema, RunReportSchema, TimingsSchema, VersionsInfoSchema, WorkerInfoSchema } from './schema.js'

export type RunReport = z.infer<typeof RunReportSchema>
export type Verdict = RunReport['verdict']
/** A gate's outcome: `id` is one of GATE_IDS for the action's own gates, any string in a synthetic report. */
export type GateResult = z.infer<typeof GateResultSchema>
export type WorkerInfo = z.infer<typeof WorkerInfoSchema>
export type VersionsInfo = z.infer<typeof VersionsInfoSchema>
/** Milliseconds since the run started, for the milestones that happened. */
export type Timings = z.infer<typeof TimingsSchema>
