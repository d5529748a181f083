// The shipped rules, in order: first match wins. Foundation rules come first — a broken
// foundation explains harness-looking symptoms too — and several of them are tied to this run's
// own gate results, which is what tells a readiness race from a worker that never answers.
// Each remediation states what is known to be true of Celery (see the sources cited).
import { compileRules, type Rule, type RuleInput } from './rules.js'

const READINESS =
  '/not ready|never became ready|did not become ready|readiness|wait(?:ing)?_for_worker|timed out waiting for (?:the )?worker|worker did not (?:start|answer)/i'
const RLS_TOPIC = '/tenant|isolation|\\brls\\b|_rls_|row_?level|row_security|bypass/i'
const RLS_REMEDIATION =
  'Row-level security does not apply to the role in use (the rls-role gate says why: SUPERUSER, BYPASSRLS, or RLS not forced for the table owner): isolation is off, so the test is right to fail. Fix the role or the table, not the test.'
const DB_REFUSED =
  '/password authentication failed|Connection refused|could not connect to server|connection to server at .* failed|could not translate host name|no pg_hba\\.conf entry|database "[^"]+" does not exist|role "[^"]+" does not exist|the database system is (?:starting up|shutting down)/'
const TENANT_ISOLATION_REMEDIATION =
  "As the worker's role, rows of other tenants are visible (the tenant-isolation gate failed and names the check: a permissive policy that lets every row through, a tenant set by default on the role, a policy that does not read the tenant setting): isolation is off, so the test is right to fail. Fix the policy or the role, not the test."

export const DEFAULT_RULES_DATA: RuleInput[] = [
  {
    id: 'app-does-not-import',
    category: 'foundation:import',
    description: 'Collection or import errors while the app itself does not import',
    when: { gates: { import: 'fail' }, any: '/ImportError|ModuleNotFoundError|SyntaxError|collection failure|Unable to load celery application/' },
    remediation:
      'The app does not import (the import gate failed with the same kind of error): fix the import — a missing dependency, a module-level call that fails — and this test runs again.'
  },
  {
    id: 'broker-not-postgres',
    category: 'foundation:broker-config',
    description: 'The test talks to a broker or backend that is not the configured PostgreSQL',
    when: { gates: { 'broker-config': 'fail' }, any: '/redis|amqp|rabbitmq|Cannot connect to|kombu\\.exceptions|rpc:\\/\\//i' },
    remediation:
      'The app is not configured for a PostgreSQL broker and result backend (the broker-config gate failed): set sqla+postgresql:// (or pgmq:// on kombu 5.7) and db+postgresql:// and this failure goes with it.'
  },
  {
    id: 'database-refused',
    category: 'foundation:runtime',
    description: 'The database refuses connections: wrong password, closed port, unknown host, database or role',
    when: { any: DB_REFUSED },
    remediation:
      'The database refused the connection, so nothing that needs it can pass (see the runtime gate): fix the DSN, the password or the service the tests point at, not the test.'
  },
  // PostgreSQL reports a policy's refusal with SQLSTATE 42501 (InsufficientPrivilege), like a
  // missing GRANT: these come before missing-privilege, or RLS at work would read as db-access.
  {
    id: 'rls-refused',
    category: 'foundation:rls-role',
    description: 'Row-level security refused a row the role wrote, or a query that would have bypassed it',
    when: { any: '/new row violates row-level security policy|query would be affected by row-level security policy/' },
    remediation:
      "Row-level security refused this (SQLSTATE 42501, like a missing privilege, but no GRANT is missing): a row whose tenant is not the transaction's app.current_tenant_id fails the policy's WITH CHECK, and a query run with row_security = off by a role the policy applies to is refused rather than filtered. Isolation works; the code is wrong: scope each transaction to the tenant of the rows it writes (set_config('app.current_tenant_id', …, true) once per tenant, one transaction each) and read tenant-scoped. Granting more or turning RLS off is not the fix."
  },
  {
    id: 'rls-owner-only',
    category: 'foundation:rls-role',
    description: 'The role tried to change row-level security or a policy, which only the table owner may',
    when: { message: '/must be owner of (?:table|relation) /', any: '/ROW LEVEL SECURITY|(?:CREATE|ALTER|DROP) POLICY/i' },
    remediation:
      "Only a table's owner (or a superuser) may enable, disable or force row-level security and create, alter or drop its policies, and the worker's role is rightly not the owner. Write tenant data tenant-scoped (set the tenant in the transaction) and leave RLS and policies to the migrations, run as the owner."
  },
  {
    // Before missing-privilege: kombu's PGMQ transport raises "must be owner of table q_…" as
    // InsufficientPrivilege, but no GRANT fixes it — the queue table belongs to another role.
    id: 'pgmq-broker-setup',
    category: 'foundation:broker-config',
    description: "kombu's PGMQ transport cannot start: PGMQ missing, its extension refused, a queue name too long, or a queue table another role owns",
    when: {
      any: '/schema "pgmq" does not exist|extension "pgmq" is not available|queue name is too long, maximum length is 47 characters|must be owner of table [qa]_\\w+|No such transport: pgmq/'
    },
    remediation:
      'The PGMQ broker (pgmq://) cannot start here; the broker-config gate names which and the fix: install PGMQ (CREATE EXTENSION pgmq, or the pgmq package SQL-only install) with init_extension off in broker_transport_options; keep each queue name, with queue_name_prefix and the pidbox queue of the node name, within 47 characters; let the worker role own its queue tables (q_<queue>, a_<queue>).'
  },
  {
    id: 'missing-privilege',
    category: 'foundation:db-access',
    description: 'The role lacks a privilege on a table, sequence or schema',
    when: { any: '/permission denied for (?:table|sequence|schema|relation|database|function)|InsufficientPrivilege/' },
    remediation:
      'The role lacks a privilege it needs (the db-access gate lists each missing one with what needs it): grant it in the migration that creates the objects.'
  },
  {
    id: 'missing-broker-or-result-tables',
    category: 'foundation:db-access',
    description: "Kombu's or Celery's tables or sequences do not exist",
    when: { any: '/relation "(?:kombu_\\w+|celery_\\w+|\\w+_id_sequence)" does not exist/' },
    remediation:
      'The broker or result tables (or their named sequences queue_id_sequence, message_id_sequence, task_id_sequence, taskset_id_sequence) are missing: create them in a migration, or let the worker create them by granting CREATE on the schema.'
  },
  {
    id: 'task-not-registered',
    category: 'foundation:tasks',
    description: 'The task is not registered in the app',
    when: { any: "/NotRegistered: '|celery\\.exceptions\\.NotRegistered|Received unregistered task of type/" },
    remediation:
      'The task is not registered: its module is not in the app\'s include list (nor found by autodiscover_tasks), so neither the test process nor a worker knows it — a worker discards such a message with "Received unregistered task of type …". Add the module to the app\'s include (the tasks gate lists what the worker registered and, with expected-tasks, what is missing).'
  },
  // Tenant tests are recognised by their name or their failure message, never by words anywhere in
  // the traceback: pytest prints every variable, and `tenant = …` or `_retention_policy` appear in
  // failures that have nothing to do with row-level security.
  {
    id: 'rls-bypassed',
    category: 'foundation:rls-role',
    description: 'A tenant or row-level-security test fails while the rls-role gate shows RLS is bypassed',
    when: { gates: { 'rls-role': 'fail' }, test: RLS_TOPIC },
    evidence: 'error',
    remediation: RLS_REMEDIATION
  },
  {
    id: 'rls-bypassed-message',
    category: 'foundation:rls-role',
    description: 'A failure message about tenants or row-level security while the rls-role gate shows RLS is bypassed',
    when: { gates: { 'rls-role': 'fail' }, message: '/tenant|isolation|row.?level|\\bRLS\\b|row_security|BYPASSRLS|SUPERUSER/i' },
    remediation: RLS_REMEDIATION
  },
  {
    id: 'tenant-isolation-broken',
    category: 'foundation:tenant-isolation',
    description: 'A tenant or row-level-security test fails while the tenant-isolation gate shows other tenants are visible',
    when: { gates: { 'tenant-isolation': 'fail' }, test: RLS_TOPIC },
    evidence: 'error',
    remediation: TENANT_ISOLATION_REMEDIATION
  },
  {
    id: 'tenant-isolation-broken-message',
    category: 'foundation:tenant-isolation',
    description: 'A failure message about tenants or isolation while the tenant-isolation gate failed',
    when: { gates: { 'tenant-isolation': 'fail' }, message: '/tenant|isolation|row.?level|\\bRLS\\b/i' },
    remediation: TENANT_ISOLATION_REMEDIATION
  },
  {
    id: 'session-role-assertion',
    category: 'foundation:rls-role',
    description: "An assertion on the database role a session (the worker's) uses failed",
    when: {
      outcome: 'failure',
      message: '/^(?:AssertionError\\b|assert\\b)/',
      text: '/^>\\s+assert\\b.*(?:session_user|current_user|usename|rolname|\\brole\\b|_role\\b)/m'
    },
    evidence: 'error',
    remediation:
      'The sessions use another database role than the test expects. Row-level security applies per role, so a worker on the wrong role (the owner, a superuser, a BYPASSRLS role) sees every tenant while the tests pass elsewhere. Give the worker the DSN of the expected role (the rls-role gate compares the role the worker really uses with expected-role), or fix the expectation.'
  },
  {
    id: 'dead-letter-missing',
    category: 'foundation:dlq',
    description: 'A dead-letter test fails while the dlq gate shows failed tasks leave no dead-letter row',
    when: { gates: { dlq: 'fail' }, any: '/dead.?letter|\\bdlq\\b|failed_jobs/i' },
    remediation:
      "A failing task leaves no dead-letter row (the dlq gate failed and says why: the worker's role cannot INSERT into the table, the task_failure handler is not connected in the worker, or the table is missing). Fix that and this test follows."
  },
  // Tests that assert on the worker's own log lines (not on caplog or capsys, which are the harness).
  {
    id: 'worker-logs-not-structured',
    category: 'foundation:logs',
    description: "A test about the worker's logs fails while the logs gate shows its lines lack the format or fields",
    when: { gates: { logs: ['fail', 'warn'] }, test: '/log/i', not: { any: '/\\bcap(?:log|sys|fd)\\b/' } },
    evidence: 'error',
    remediation:
      "The worker's log lines are not what the test reads (the logs gate says how: plain text where JSON is expected, or a required field missing), so a test that parses them finds nothing. Fix the worker's logging setup — the formatter hookup (after_setup_logger / after_setup_task_logger) or the fields it writes — not the test."
  },
  {
    id: 'worker-never-ready',
    category: 'foundation:runtime',
    description: "A fixture's readiness wait failed, and the action's own worker did not answer either",
    when: { gates: { runtime: 'fail' }, any: READINESS },
    remediation:
      "The worker does not answer at all: the action's own data-plane ping failed too (see the runtime gate for the worker's own last words). Fix the foundation; this fixture failure follows from it."
  },
  {
    id: 'readiness-race',
    category: 'harness:readiness',
    description: "A fixture gave up waiting for a worker while the action's own worker answered",
    when: { gates: { runtime: ['pass', 'warn'] }, any: READINESS },
    remediation:
      "The worker works: the action's own data-plane ping got its pong {pong_after_ready_ms} ms after the worker printed ready ({pong_ms} ms after it was started). The fixture stopped waiting too early. Wait on one ping for a budget of several seconds (a .get(timeout=…) shorter than the broker's 1 s poll interval can miss every poll), or run the tests against a worker that is already known to be ready."
  },
  {
    id: 'queue-not-consumed',
    category: 'foundation:queues',
    description: 'A result never came while the queues gate shows a routed queue that no worker consumes',
    when: { gates: { queues: 'fail' }, any: '/celery\\.exceptions\\.TimeoutError|The operation timed out/' },
    remediation:
      'The task was routed to a queue that no worker consumes (the queues gate failed, naming the queue and the tasks routed there): the message waits in its queue (kombu_message, or its PGMQ queue table) and the result never comes — a timeout is the only symptom. Declare the queue in task_queues, run a worker for it (-Q), or drop the route.'
  },
  {
    id: 'caplog-assertion',
    category: 'harness:log-capture',
    description: "The failing assertion reads pytest's caplog",
    when: { any: '/caplog\\.(?:records|text|messages|record_tuples|get_records)/' },
    remediation:
      'caplog only holds records that are emitted in the test process and pass their logger\'s level: a logger without a level of its own inherits the root logger\'s WARNING, so INFO records (like those a task_prerun handler writes) are dropped before any handler sees them — call caplog.set_level(logging.INFO, logger="…") or run pytest with log_level=INFO. A real worker logs in its own process: read its stderr or log file instead. Eager mode does send task_prerun and task_postrun (celery/app/trace.py), so records missing there are a capture problem, not missing signals.'
  },
  {
    id: 'billiard-traceback-in-caplog',
    category: 'harness:log-capture',
    description: "pytest's log capture crashed formatting a billiard traceback (Celery 5.2 on Python 3.11+)",
    when: { any: "/'_Code' object has no attribute 'co_positions'/" },
    remediation:
      "pytest's log capture failed while formatting the task's traceback: billiard 3.6 (Celery 5.2) builds code objects without co_positions, which Python 3.11's traceback module needs, so the logging call raised instead of the task's own error. Upgrade to Celery 5.3+ (billiard 4), or assert on the task's exception without logging it in the test process."
  },
  {
    id: 'capsys-capfd-worker-output',
    category: 'harness:log-capture',
    description: 'The failing assertion reads capsys or capfd for what a worker printed',
    when: {
      message: '/^(?:AssertionError\\b|assert\\b)/',
      text: '/\\bcap(?:sys|fd)(?:binary)?(?:\\.readouterr\\(\\)| = <_pytest\\.capture\\.CaptureFixture)/',
      any: '/worker|celery/i'
    },
    remediation:
      "capsys captures the test process's sys.stdout and sys.stderr, capfd its file descriptors 1 and 2. A worker is another process: its banner and its log lines go wherever its own stdout and stderr go (a pipe or a file its fixture opened), never into the test's capture. Read the worker's output where it is written, or assert on the task's result and its effects instead."
  },
  {
    id: 'coroutine-not-run',
    category: 'harness:async-bridge',
    description: 'A coroutine object was used where its value was expected (called from sync code, never run)',
    when: {
      any: "/'coroutine' object (?:has no attribute|is not (?:subscriptable|iterable|callable)|does not support|cannot be)|object of type 'coroutine' has no len|<coroutine object [\\w.<>]+ at 0x|Object of type coroutine is not JSON serializable/"
    },
    remediation:
      'An async function was called from sync code and its coroutine object used as the value: nothing in it ran (Python warns "coroutine … was never awaited", outside the JUnit report). Run it to completion — asyncio.run(f(…)) where no loop runs in that thread, await it in async code — and never return a coroutine from a task: the worker cannot serialise it as a result.'
  },
  {
    id: 'async-bridge',
    category: 'harness:async-bridge',
    description: 'Async code driven from a sync task did not complete',
    when: {
      any: '/was never awaited|This event loop is already running|There is no current event loop|Event loop is closed|Task was destroyed but it is pending|cannot be called from a running event loop|attached to a different loop|_run_async|run_until_complete|ensure_future|create_task/'
    },
    remediation:
      'A coroutine started from synchronous task code was scheduled but not run to completion (no running loop to drive it, or a loop that closed first), so its work never happened. Run it to completion inside the task (asyncio.run when no loop is running in that thread), or make the task synchronous; never fire and forget from a task.'
  },
  {
    id: 'eager-mode',
    category: 'harness:eager-mode',
    description: 'The test runs tasks eagerly and asserts what only a real worker does',
    when: { any: '/task_always_eager|CELERY_TASK_ALWAYS_EAGER|always_eager|EagerResult|\\beager\\w*/i' },
    evidence: 'error',
    remediation:
      "With task_always_eager the task runs inside the test process: nothing is published, no worker receives it, worker signals (worker_ready, task_received) are not sent, and the result is not stored in the result backend — unless task_store_eager_result is set in the app's configuration before its tasks are bound, or store_eager_result=True is set on the task (setting app.conf.task_store_eager_result inside a test changes nothing: celery/app/task.py copies it when the task is bound). Eager mode does send task_prerun and task_postrun. Test what a worker does against a real worker; keep eager mode for logic-only tests."
  },
  {
    id: 'xpass-strict',
    category: 'unknown',
    description: 'A test marked xfail(strict=True) passed',
    when: { message: '/^\\[XPASS\\(strict\\)\\]/' },
    remediation:
      'The test passed although it is marked xfail(strict=True): neither the foundation nor the harness is at fault; remove the marker if the bug it tracked is fixed.'
  }
]

export const DEFAULT_RULES: Rule[] = compileRules(DEFAULT_RULES_DATA, 'the default rules')
