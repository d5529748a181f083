import { c as compileRules } from './shared-rules.js';
import './shared-core.js';
import 'node:fs';
import 'node:os';
import 'node:path';
import 'os';
import 'crypto';
import 'fs';
import 'path';
import 'string_decoder';
import 'events';
import 'child_process';
import 'assert';
import 'timers';
import './shared-actions.js';
import 'node:child_process';
import 'node:string_decoder';
import 'node:url';
import 'node:crypto';

// The shipped rules, in order: first match wins. Foundation rules come first — a broken
// foundation explains harness-looking symptoms too — and several of them are tied to this run's
// own gate results, which is what tells a readiness race from a worker that never answers.
// Each remediation states what is known to be true of Celery (see the sources cited).
const READINESS = '/not ready|never became ready|did not become ready|readiness|wait(?:ing)?_for_worker|timed out waiting for (?:the )?worker|worker did not (?:start|answer)/i';
const RLS_TOPIC = '/tenant|isolation|\\brls\\b|_rls_|row_?level|row_security|bypass/i';
const RLS_REMEDIATION = 'Row-level security does not apply to the role in use (the rls-role gate says why: SUPERUSER, BYPASSRLS, or RLS not forced for the table owner): isolation is off, so the test is right to fail. Fix the role or the table, not the test.';
const DB_REFUSED = '/password authentication failed|Connection refused|could not connect to server|connection to server at .* failed|could not translate host name|no pg_hba\\.conf entry|database "[^"]+" does not exist|role "[^"]+" does not exist|the database system is (?:starting up|shutting down)/';
const DEFAULT_RULES_DATA = [
    {
        id: 'app-does-not-import',
        category: 'foundation:import',
        description: 'Collection or import errors while the app itself does not import',
        when: { gates: { import: 'fail' }, any: '/ImportError|ModuleNotFoundError|SyntaxError|collection failure|Unable to load celery application/' },
        remediation: 'The app does not import (the import gate failed with the same kind of error): fix the import — a missing dependency, a module-level call that fails — and this test runs again.'
    },
    {
        id: 'broker-not-postgres',
        category: 'foundation:broker-config',
        description: 'The test talks to a broker or backend that is not the configured PostgreSQL',
        when: { gates: { 'broker-config': 'fail' }, any: '/redis|amqp|rabbitmq|Cannot connect to|kombu\\.exceptions|rpc:\\/\\//i' },
        remediation: 'The app is not configured for a PostgreSQL broker and result backend (the broker-config gate failed): set sqla+postgresql:// and db+postgresql:// and this failure goes with it.'
    },
    {
        id: 'database-refused',
        category: 'foundation:runtime',
        description: 'The database refuses connections: wrong password, closed port, unknown host, database or role',
        when: { any: DB_REFUSED },
        remediation: 'The database refused the connection, so nothing that needs it can pass (see the runtime gate): fix the DSN, the password or the service the tests point at, not the test.'
    },
    {
        id: 'missing-privilege',
        category: 'foundation:db-access',
        description: "The role lacks a privilege on a table, sequence or schema",
        when: { any: '/permission denied for (?:table|sequence|schema|relation|database|function)|InsufficientPrivilege/' },
        remediation: "The role lacks a privilege it needs (the db-access gate lists each missing one with what needs it): grant it in the migration that creates the objects."
    },
    {
        id: 'missing-broker-or-result-tables',
        category: 'foundation:db-access',
        description: "Kombu's or Celery's tables or sequences do not exist",
        when: { any: '/relation "(?:kombu_\\w+|celery_\\w+|\\w+_id_sequence)" does not exist/' },
        remediation: 'The broker or result tables (or their named sequences queue_id_sequence, message_id_sequence, task_id_sequence, taskset_id_sequence) are missing: create them in a migration, or let the worker create them by granting CREATE on the schema.'
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
        id: 'worker-never-ready',
        category: 'foundation:runtime',
        description: "A fixture's readiness wait failed, and the action's own worker did not answer either",
        when: { gates: { runtime: 'fail' }, any: READINESS },
        remediation: "The worker does not answer at all: the action's own data-plane ping failed too (see the runtime gate for the worker's own last words). Fix the foundation; this fixture failure follows from it."
    },
    {
        id: 'readiness-race',
        category: 'harness:readiness',
        description: "A fixture gave up waiting for a worker while the action's own worker answered",
        when: { gates: { runtime: ['pass', 'warn'] }, any: READINESS },
        remediation: "The worker works: the action's own data-plane ping got its pong {pong_after_ready_ms} ms after the worker printed ready ({pong_ms} ms after it was started). The fixture stopped waiting too early. Wait on one ping for a budget of several seconds (a .get(timeout=…) shorter than the broker's 1 s poll interval can miss every poll), or run the tests against a worker that is already known to be ready."
    },
    {
        id: 'caplog-assertion',
        category: 'harness:log-capture',
        description: "The failing assertion reads pytest's caplog",
        when: { any: '/caplog\\.(?:records|text|messages|record_tuples|get_records)/' },
        remediation: "caplog only holds records that are emitted in the test process and pass their logger's level: a logger without a level of its own inherits the root logger's WARNING, so INFO records (like those a task_prerun handler writes) are dropped before any handler sees them — call caplog.set_level(logging.INFO, logger=\"…\") or run pytest with log_level=INFO. A real worker logs in its own process: read its stderr or log file instead. Eager mode does send task_prerun and task_postrun (celery/app/trace.py), so records missing there are a capture problem, not missing signals."
    },
    {
        id: 'billiard-traceback-in-caplog',
        category: 'harness:log-capture',
        description: "pytest's log capture crashed formatting a billiard traceback (Celery 5.2 on Python 3.11+)",
        when: { any: "/'_Code' object has no attribute 'co_positions'/" },
        remediation: "pytest's log capture failed while formatting the task's traceback: billiard 3.6 (Celery 5.2) builds code objects without co_positions, which Python 3.11's traceback module needs, so the logging call raised instead of the task's own error. Upgrade to Celery 5.3+ (billiard 4), or assert on the task's exception without logging it in the test process."
    },
    {
        id: 'async-bridge',
        category: 'harness:async-bridge',
        description: 'Async code driven from a sync task did not complete',
        when: {
            any: '/was never awaited|This event loop is already running|There is no current event loop|Event loop is closed|Task was destroyed but it is pending|cannot be called from a running event loop|attached to a different loop|_run_async|run_until_complete|ensure_future|create_task/'
        },
        remediation: 'A coroutine started from synchronous task code was scheduled but not run to completion (no running loop to drive it, or a loop that closed first), so its work never happened. Run it to completion inside the task (asyncio.run when no loop is running in that thread), or make the task synchronous; never fire and forget from a task.'
    },
    {
        id: 'eager-mode',
        category: 'harness:eager-mode',
        description: 'The test runs tasks eagerly and asserts what only a real worker does',
        when: { any: '/task_always_eager|CELERY_TASK_ALWAYS_EAGER|always_eager|EagerResult|\\beager\\w*/i' },
        evidence: 'error',
        remediation: 'With task_always_eager the task runs inside the test process: nothing is published, no worker receives it, worker signals (worker_ready, task_received) are not sent, and the result is not stored in the result backend — unless task_store_eager_result is set in the app\'s configuration before its tasks are bound, or store_eager_result=True is set on the task (setting app.conf.task_store_eager_result inside a test changes nothing: celery/app/task.py copies it when the task is bound). Eager mode does send task_prerun and task_postrun. Test what a worker does against a real worker; keep eager mode for logic-only tests.'
    },
    {
        id: 'xpass-strict',
        category: 'unknown',
        description: 'A test marked xfail(strict=True) passed',
        when: { message: '/^\\[XPASS\\(strict\\)\\]/' },
        remediation: 'The test passed although it is marked xfail(strict=True): neither the foundation nor the harness is at fault; remove the marker if the bug it tracked is fixed.'
    }
];
const DEFAULT_RULES = compileRules(DEFAULT_RULES_DATA, 'the default rules');

export { DEFAULT_RULES, DEFAULT_RULES_DATA };
