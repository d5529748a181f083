// Version drift: what the installed Celery, kombu and SQLAlchemy need (read by drift.py from their
// own code) against what the app configures and the database holds. Pure functions: the gates
// bring the probe and the catalog rows, this file says what is missing and the statement that
// fixes it.
import { qualified, quoteIdent } from '../db/database.js'
import type { ProbeReport, TableModel } from './probe.js'

type Drift = NonNullable<ProbeReport['drift']>
type Driver = NonNullable<NonNullable<Drift['drivers']>['broker']>

/** Text from the user's interpreter, cut to one short line. */
const cut = (text: string, max = 240): string => {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

function driverFix(d: Driver, versions: ProbeReport['versions']): string {
  const module = d.module ?? d.driver ?? ''
  if (module === 'psycopg')
    return versions.psycopg2
      ? 'install it (pip install "psycopg[binary]"), or keep the installed psycopg2 by writing postgresql+psycopg2:// in the URL'
      : 'install it: pip install "psycopg[binary]" (or write postgresql+psycopg2:// in the URL and install psycopg2-binary)'
  if (module === 'psycopg2')
    return versions.psycopg
      ? 'install it (pip install psycopg2-binary), or use the installed psycopg 3 by writing postgresql+psycopg:// in the URL'
      : 'install it: pip install psycopg2-binary (or write postgresql+psycopg:// in the URL and install "psycopg[binary]")'
  const installed = versions.psycopg ? 'postgresql+psycopg://' : versions.psycopg2 ? 'postgresql+psycopg2://' : undefined
  return `install ${module || 'its module'} in python${installed ? `, or write ${installed} in the URL (installed)` : ''}`
}

/** Problems the worker would die of at boot, known before it starts: its driver, its engine options. */
export function driftProblems(probe: ProbeReport): string[] {
  const drift = probe.drift
  if (!drift) return []
  const problems: string[] = []
  const sqlalchemy = probe.versions.sqlalchemy ? `SQLAlchemy ${probe.versions.sqlalchemy}` : 'SQLAlchemy'
  for (const [what, d] of [
    ['broker', drift.drivers?.broker],
    ['result backend', drift.drivers?.results]
  ] as const) {
    if (!d?.error) continue
    if (!d.driver)
      problems.push(
        `the ${what} URL names a driver ${sqlalchemy} does not know: ${cut(d.error)}; write postgresql+psycopg:// or postgresql+psycopg2:// in the URL`
      )
    else
      problems.push(
        `the ${what} URL gets the driver ${d.driver} from ${sqlalchemy}, and its module does not import in python (${cut(d.error)}): ${driverFix(d, probe.versions)}`
      )
  }
  const rejected = drift.engine_options?.rejected ?? []
  if (rejected.length) {
    const keys = rejected.map((k) => `'${cut(k, 60)}'`).join(', ')
    problems.push(
      `broker_transport_options ${keys}: kombu's sqla transport hands these to SQLAlchemy's create_engine(), which rejects them, so the worker would die at boot (TypeError: Invalid argument(s) … sent to create_engine()); ` +
        `remove ${rejected.length > 1 ? 'them' : 'it'} from broker_transport_options (Redis/SQS options; the sqla transport polls every second)`
    )
  }
  const rejectedByBackend = drift.backend_engine_options?.rejected ?? []
  if (rejectedByBackend.length) {
    const keys = rejectedByBackend.map((k) => `'${cut(k, 60)}'`).join(', ')
    problems.push(
      `database_engine_options ${keys}: Celery's result backend hands these to SQLAlchemy's create_engine(), which rejects them, so every result store would fail; remove ${rejectedByBackend.length > 1 ? 'them' : 'it'} from database_engine_options`
    )
  }
  return problems
}

/** A column as the database's catalog has it (format_type spelling). */
export interface CatalogColumn {
  column: string
  type: string
  nullable: boolean
}

export interface TableDrift {
  /** Columns the installed package maps: without them every read/write of the table fails. */
  missing: string[]
  /** Columns of the model the configured classes do not map (harmless today). */
  missingUnused: string[]
  /** Columns whose type or nullability differ (each a sentence). */
  mismatched: string[]
  missingIndexes: string[]
  /** The statements the table's owner runs to add what is missing. */
  statements: string[]
}

/** A type from the user's interpreter, as it may go into a suggested statement. */
const safeType = (type: string): string => (/^[A-Za-z0-9 (),]{1,60}$/.test(type) ? type : '<type>')

/** The model's type in PostgreSQL's own spelling (format_type), so the two compare as text. */
function pgType(modelType: string): string {
  return modelType.toLowerCase().replace(/^varchar\b/, 'character varying')
}

export function compareTable(table: string, schema: string | null | undefined, model: TableModel, catalog: CatalogColumn[]): TableDrift {
  const have = new Map(catalog.map((c) => [c.column, c]))
  const out: TableDrift = { missing: [], missingUnused: [], mismatched: [], missingIndexes: [], statements: [] }
  const add: string[] = []
  for (const col of model.columns) {
    const got = have.get(col.name)
    if (!got) {
      ;(col.used ? out.missing : out.missingUnused).push(col.name)
      add.push(`ADD COLUMN ${quoteIdent(col.name)} ${safeType(col.type)}${col.nullable ? '' : ' NOT NULL'}`)
      continue
    }
    if (pgType(col.type) !== got.type) out.mismatched.push(`${table}.${col.name} is ${cut(got.type, 60)}, the installed model has ${cut(pgType(col.type), 60)}`)
    if (col.nullable && !got.nullable && !col.primary_key)
      out.mismatched.push(
        `${table}.${col.name} is NOT NULL, the installed model leaves it empty: ALTER TABLE ${qualified(table, schema)} ALTER COLUMN ${quoteIdent(col.name)} DROP NOT NULL`
      )
  }
  if (add.length) out.statements.push(`ALTER TABLE ${qualified(table, schema)} ${add.join(', ')}`)
  return out
}

/** `ALTER TABLE … ADD COLUMN …` for the named columns of a model (from the worker's own lines). */
export function addColumnsStatement(table: string, schema: string | null | undefined, model: TableModel | undefined, columns: string[]): string {
  const parts = columns.map((name) => {
    const col = model?.columns.find((c) => c.name === name)
    return `ADD COLUMN ${quoteIdent(name)} ${col ? safeType(col.type) : '<type>'}`
  })
  return `ALTER TABLE ${qualified(table, schema)} ${parts.join(', ')}`
}
