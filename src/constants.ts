// Names that other users' workflows depend on live here and nowhere else: inputs, outputs,
// state keys and gate ids are a public contract (see action.yml and README.md).

export const Inputs = {
  App: 'app',
  WorkingDirectory: 'working-directory',
  Python: 'python',
  WorkerArgs: 'worker-args',
  WorkerEnv: 'worker-env',
  DatabaseUrl: 'database-url',
  ExpectedRole: 'expected-role',
  AllowedRoles: 'allowed-roles',
  PingTask: 'ping-task',
  Timeout: 'timeout',
  TenantTables: 'tenant-tables',
  FailOn: 'fail-on',
  Junit: 'junit',
  TaxonomyRules: 'taxonomy-rules',
  Gates: 'gates',
  ExpectedTasks: 'expected-tasks',
  LogFields: 'log-fields',
  DlqTable: 'dlq-table',
  DlqProbeTask: 'dlq-probe-task',
  KeepWorker: 'keep-worker',
  GithubToken: 'github-token',
  PrComment: 'pr-comment',
  CheckRun: 'check-run'
} as const
export type InputName = (typeof Inputs)[keyof typeof Inputs]

export const Outputs = {
  Verdict: 'verdict',
  Gates: 'gates',
  FailedGates: 'failed-gates',
  Report: 'report',
  TestsFailed: 'tests-failed',
  Taxonomy: 'taxonomy'
} as const

/** Keys passed from the main step to the post step through GITHUB_STATE. */
export const State = {
  WorkerPid: 'worker-pid',
  RunId: 'run-id',
  /** Set when the worker was kept for the job: the file its output goes to. */
  KeptWorkerOutput: 'kept-worker-output'
} as const

/**
 * Gate ids in matrix order: the seed's five foundation gates, the five that catch what still
 * reaches production, and `ci` — about the pipeline, and last because it sums up the others.
 */
export const GATE_IDS = ['import', 'broker-config', 'runtime', 'db-access', 'rls-role', 'queues', 'tasks', 'logs', 'dlq', 'tenant-isolation', 'ci'] as const
export type GateId = (typeof GATE_IDS)[number]

export const GATE_STATUSES = ['pass', 'fail', 'warn', 'skip'] as const
export type GateStatus = (typeof GATE_STATUSES)[number]

/** Environment variable that marks every process of one run, so cleanup kills only its own. */
export const RUN_MARKER_ENV = 'CELERY_FOUNDATION_GATES_RUN'

export const TOOL_NAME = 'celery-foundation-gates'
