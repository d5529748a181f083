export declare const SUPERUSER: string
export declare function freePort(): Promise<number>
export declare class LocalPostgres {
  readonly port: number
  readonly superPassword: string
  readonly dataDir: string
  /** postgresFlags: extra server arguments (e.g. ['-c', 'max_connections=300']); onLog: the server's log (stderr), chunk by chunk. */
  static start(options?: { postgresFlags?: string[]; onLog?: (message: string) => void }): Promise<LocalPostgres>
  url(database: string, user: string, password: string, port?: number): string
  createDatabase(name: string): Promise<void>
  query<R extends Record<string, unknown> = Record<string, unknown>>(database: string, sql: string, params?: unknown[]): Promise<R[]>
  applySqlFile(database: string, file: string, vars: Record<string, string>): Promise<void>
  stop(): Promise<void>
  startAgain(): Promise<void>
  destroy(): Promise<void>
}
