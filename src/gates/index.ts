import { brokerConfigGate } from './broker-config.js'
import { ciGate } from './ci.js'
import { dbAccessGate } from './db-access.js'
import type { Gate } from './gate.js'
import { importGate } from './import.js'
import { rlsRoleGate } from './rls-role.js'
import { runtimeGate } from './runtime.js'

/** The gates in matrix order (the public order of gate ids). */
export const FOUNDATION_GATES: readonly Gate[] = [importGate, brokerConfigGate, runtimeGate, dbAccessGate, rlsRoleGate, ciGate]
