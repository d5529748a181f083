// Types for the parts of pg-server.mjs the TypeScript tests use.
export interface ServerBinaries {
  initdb: string
  postgres: string
  ids: { uid?: number; gid?: number }
}
export declare function cachedServerBinaries(): Promise<ServerBinaries>
export declare function newDataParent(): string
export declare class PgServer {
  constructor(options: {
    bins: ServerBinaries
    dataDir: string
    port: number
    user: string
    password: string
    postgresFlags: string[]
    onLog: (message: string) => void
  })
  initialise(): Promise<void>
  start(): Promise<void>
  stop(): Promise<void>
}
