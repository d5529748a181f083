import type { GateId } from '../constants.js'
import { brokerConfigGate } from './broker-config.js'
import { ciGate } from './ci.js'
import { dbAccessGate } from './db-access.js'
import { dlqGate } from './dlq.js'
import type { Gate } from './gate.js'
import { importGate } from './import.js'
import { logsGate } from './logs.js'
import { queuesGate } from './queues.js'
import { rlsRoleGate } from './rls-role.js'
import { runtimeGate } from './runtime.js'
import { tasksGate } from './tasks.js'
import { tenantIsolationGate } from './tenant-isolation.js'

/** Every gate, in matrix order (the public order of gate ids, GATE_IDS). */
export const ALL_GATES: readonly Gate[] = [
  importGate,
  brokerConfigGate,
  runtimeGate,
  dbAccessGate,
  rlsRoleGate,
  queuesGate,
  tasksGate,
  logsGate,
  dlqGate,
  tenantIsolationGate,
  ciGate
]

/** The gates the `gates` input asks for, in matrix order. */
export function selectGates(ids: readonly GateId[]): Gate[] {
  return ALL_GATES.filter((g) => ids.includes(g.id))
}
