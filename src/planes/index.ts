// The data planes the action knows, in the order they are tried on a broker URL. A new transport
// is one file implementing BrokerPlane (plane.ts), added here.
import type { DsnParts } from '../db/dsn.js'
import { pgmqPlane } from './pgmq.js'
import type { BrokerPlane, PlaneKind } from './plane.js'
import { sqlaPlane } from './sqla.js'

export const PLANES: readonly BrokerPlane[] = [sqlaPlane, pgmqPlane]

/** The plane whose URL this broker URL is, if any. */
export function planeFor(parts: DsnParts): BrokerPlane | undefined {
  return PLANES.find((p) => p.recognises(parts))
}

export function planeOf(kind: PlaneKind): BrokerPlane {
  const plane = PLANES.find((p) => p.kind === kind)
  if (!plane) throw new Error(`no data plane of kind ${kind}`)
  return plane
}

export type { BrokerPlane, Outgoing, PlaneKind, RunNames, RunTrace, Sent, TraceCleanup } from './plane.js'
