// Writes report.schema.json (repository root) from the zod schema in src/report/schema.ts: the
// JSON Schema that the action's JSON report and the CLI's `--json` output both validate against.
//
//   npx tsx scripts/write-report-schema.ts
//
// test/unit/report-schema.test.ts fails while the committed file differs from what this writes.
import { realpathSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { RunReportSchema } from '../src/report/schema.js'

export const REPORT_SCHEMA_FILE = fileURLToPath(new URL('../report.schema.json', import.meta.url))

/** The file's exact text: the JSON Schema (draft 2020-12), 2-space indented, trailing newline. */
export function reportSchemaText(): string {
  const { $schema, $id, title, description, ...rest } = z.toJSONSchema(RunReportSchema, { target: 'draft-2020-12' })
  // Only the top level's keys are reordered, so a reader meets what the file is before its fields.
  return `${JSON.stringify({ $schema, $id, title, description, ...rest }, null, 2)}\n`
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
if (invokedDirectly) {
  writeFileSync(REPORT_SCHEMA_FILE, reportSchemaText())
  console.log(`wrote ${REPORT_SCHEMA_FILE}`)
}
