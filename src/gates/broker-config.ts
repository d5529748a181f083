import { connect, type Database } from '../db/database.js'
import { dsnTarget, parseDsn, type DsnParts } from '../db/dsn.js'
import { planeOf } from '../planes/index.js'
import { gateOutcome, type Gate } from './gate.js'

export const brokerConfigGate: Gate = {
  id: 'broker-config',
  title: 'Broker Config',
  description: 'Broker and result backend the app configures are PostgreSQL DSNs (no Redis/RabbitMQ)',
  foundation: true,
  needs: ['import'],
  async run({ facts }) {
    const check = await facts.dataPlane()
    if (!check) return gateOutcome('fail', 'the app did not import')
    if (!check.ok) return gateOutcome('fail', [...check.problems, `transport: \`${check.brokerShown}\``, `results: \`${check.backendShown}\``].join('\n'))

    const { broker, backend } = check.plane
    const lines = [`transport: \`${broker.redacted}\``, `results: \`${backend.redacted}\``]
    // What the data plane says of itself (PGMQ: its version, asked as the worker's role); the
    // sqla plane asks nothing, so this gate opens no connection there.
    const probe = await facts.probe()
    let db: Database | undefined
    const open = async (): Promise<Database> => (db = await connect(broker.parts, { connectTimeoutMs: 5000 }))
    const names = { nodeName: facts.ids.nodeName, queue: facts.ids.queue }
    const plane = probe.ok ? await planeOf(check.plane.kind).evidence(open, probe.probe, names) : { lines: [], problems: [] }
    await db?.close().catch(() => {})
    lines.push(...plane.lines.map((l) => facts.redact(l)))
    if (plane.problems.length) return gateOutcome('fail', [...plane.problems.map((p) => facts.redact(p)), ...lines].join('\n'))
    // Cross-check with what the worker itself prints at boot (password shown as ** there).
    const banner = await facts.banner()
    const mismatches = [compareBanner('transport', banner.transport, broker.parts), compareBanner('results', banner.results, backend.parts)].filter(
      (m): m is string => !!m
    )
    if (mismatches.length) return gateOutcome('fail', [...mismatches, ...lines].join('\n'))
    lines.push(
      banner.transport && banner.results ? "the worker's banner shows the same transport and results" : 'not cross-checked: the worker printed no banner'
    )
    return gateOutcome('pass', [...lines, ...check.notes].join('\n'))
  }
}

function compareBanner(what: string, shown: string | undefined, configured: DsnParts): string | undefined {
  if (!shown) return undefined
  const printed = parseDsn(shown)
  if (!printed) return `the worker's banner shows ${what}: ${shown}, which is not a PostgreSQL URL`
  const same = dsnTarget(printed) === dsnTarget(configured) && (printed.username ?? '') === (configured.username ?? '')
  return same
    ? undefined
    : `the worker's banner shows ${what} at ${printed.username ?? ''}@${dsnTarget(printed)}, but the app configures ${configured.username ?? ''}@${dsnTarget(configured)}`
}
