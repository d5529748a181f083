import { T as TOOL_NAME, h as redactDsn, t as toPgConfig, j as isPostgresScheme, p as parseDsn, k as dsnTarget, D as DLQ_ROW_GRACE_MS, L as LOG_SETTLE_MS, l as localPortsTo, m as registerSecretsInText, R as RUN_MARKER_ENV, O as OUTPUT_DRAIN_MS, n as KILL_WAIT_MS, o as signalGroup, I as Inputs, G as GATE_IDS, q as DB_LOST_GRACE_MS, u as RESULT_ROW_GRACE_MS, v as REFUSAL_GRACE_MS, x as descendants, y as isAlive, b as runsRoot, E as EXTRAS_GRACE_MS, H as HEALTHY_STOP_GRACE_MS, z as registerEnvironmentSecrets, A as scrubStrings, B as BROKEN_STOP_GRACE_MS, C as CANCEL_GRACE_MS, F as formatCount$1, J as utf8ByteLength, M as truncateUtf8, N as inlineCode, P as countOf, Q as entryOf, U as once, V as memoize, W as oneLine, X as detailsBlock, Y as escapeHtmlLine, Z as escapeTableCell, _ as inlineMarkdown, $ as markdownTable, a0 as tableRow, a1 as namedAtMost, a2 as clipCharacters, a3 as lazyTable, s as stripControlCharacters, a4 as EVIDENCE_CELL_LINES, a5 as EVIDENCE_CELL_LINE_CHARS, a6 as capText, a7 as preBlock, a8 as error$1, a9 as Outputs, aa as setOutput, w as warning, i as info, ab as startGroup, ac as endGroup } from './shared-format.js';
import { openSync, constants, fstatSync, readSync, closeSync, readFileSync, writeFileSync, mkdirSync, createWriteStream, statSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { StringDecoder } from 'node:string_decoder';
import { randomInt, randomBytes, randomUUID } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';

/** One per foundation gate (`foundation:<gate id>`), in matrix order. */
const FOUNDATION_CATEGORIES = [
    'foundation:import',
    'foundation:broker-config',
    'foundation:runtime',
    'foundation:db-access',
    'foundation:rls-role',
    'foundation:queues',
    'foundation:tasks',
    'foundation:logs',
    'foundation:dlq',
    'foundation:tenant-isolation'
];
const HARNESS_CATEGORIES = ['harness:readiness', 'harness:eager-mode', 'harness:log-capture', 'harness:async-bridge'];
const CATEGORIES = [...FOUNDATION_CATEGORIES, ...HARNESS_CATEGORIES, 'unknown'];
const isFoundationCategory = (c) => c.startsWith('foundation:');

const STATUS_PRESENTATION = {
    pass: { emoji: '✅', label: 'PASS', outcome: 'passed' },
    fail: { emoji: '❌', label: 'FAIL', outcome: 'failed' },
    warn: { emoji: '⚠️', label: 'MIXED', outcome: 'mixed' },
    skip: { emoji: '⏭️', label: 'SKIPPED', outcome: 'skipped' }
};
const INTERRUPTION_HEADLINES = {
    cancelled: 'cancelled by the runner',
    'input-error': 'input error',
    crash: 'the action crashed'
};
/** A sentence stays readable when hundreds of gates share a status. */
const MAX_IDS_NAMED = 10;
/** The status for the job summary: `✅ PASS`. A verdict is a status too. */
function statusBadge(status) {
    const { emoji, label } = STATUS_PRESENTATION[status];
    return `${emoji} ${label}`;
}
/**
 * The status in a table cell: a no-break space keeps emoji and label on one line when a wide
 * table squeezes the column (checked in Chromium: test/integration/summary-page.test.ts).
 */
function statusCell(status) {
    const { emoji, label } = STATUS_PRESENTATION[status];
    return `${emoji}\u00a0${label}`;
}
/** The status for terminals without emoji: `PASS`. */
function statusLabel(status) {
    return STATUS_PRESENTATION[status].label;
}
/** Why the run stopped early, in a few words: "cancelled by the runner". */
function describeInterruption(kind) {
    return INTERRUPTION_HEADLINES[kind];
}
/** The run's verdict from its gates: it fails when a foundation gate failed. */
function verdictOf(results) {
    return results.some((r) => r.foundation && r.status === 'fail') ? 'fail' : 'pass';
}
/**
 * The part of the verdict sentence after the dash, e.g. "1 of 9 foundation gates failed:
 * `runtime`; 2 skipped: `db-access`, `rls-role`". `formatId` renders a gate id for the medium.
 */
function describeGateOutcome(gates, formatId) {
    const foundation = gates.filter((gate) => gate.foundation);
    const outside = countByStatus(gates.filter((gate) => !gate.foundation), ['fail', 'warn', 'skip'], formatId);
    const clauses = [describeFoundation(foundation, formatId)];
    if (outside.length > 0)
        clauses.push(`outside the foundation, ${outside.join(', ')}`);
    return clauses.join('; ');
}
function describeFoundation(foundation, formatId) {
    const total = foundation.length;
    if (total === 0)
        return 'no foundation gates ran';
    if (foundation.every((gate) => gate.status === 'pass')) {
        return total === 1 ? 'the foundation gate passed' : `all ${total} foundation gates passed`;
    }
    if (foundation.every((gate) => gate.status === 'skip'))
        return `none of the ${total} foundation gates ran`;
    const failed = idsWithStatus(foundation, 'fail');
    // Without a failure, what kept the verdict from passing is how few passed: "2 of 5 foundation
    // gates passed; 3 skipped" says so, where "no foundation gate failed" next to FAIL would not.
    const passed = idsWithStatus(foundation, 'pass').length;
    const headline = failed.length > 0
        ? `${failed.length} of ${total} foundation gates failed: ${nameIds(failed, formatId)}`
        : passed > 0
            ? `${passed} of ${total} foundation gates passed`
            : `none of the ${total} foundation gates passed`;
    return [headline, ...countByStatus(foundation, ['warn', 'skip'], formatId)].join('; ');
}
/** "2 skipped: `db-access`, `rls-role`" for each status that some gate has. */
function countByStatus(gates, statuses, formatId) {
    return statuses.flatMap((status) => {
        const ids = idsWithStatus(gates, status);
        return ids.length > 0 ? [`${ids.length} ${STATUS_PRESENTATION[status].outcome}: ${nameIds(ids, formatId)}`] : [];
    });
}
function idsWithStatus(gates, status) {
    return gates.filter((gate) => gate.status === status).map((gate) => gate.id);
}
/** "`a`, `b` and 3 more". */
function nameIds(ids, formatId) {
    const named = ids.slice(0, MAX_IDS_NAMED).map(formatId).join(', ');
    const rest = ids.length - MAX_IDS_NAMED;
    return rest > 0 ? `${named} and ${rest} more` : named;
}
const COMPONENT_PRESENTATION = {
    operational: { emoji: '✅', label: 'OPERATIONAL' },
    broken: { emoji: '❌', label: 'BROKEN' },
    unproven: { emoji: '⏭️', label: 'UNPROVEN' },
    sound: { emoji: '✅', label: 'SOUND' },
    defective: { emoji: '❌', label: 'DEFECTIVE' },
    'no-reports': { emoji: '⚠️', label: 'NO REPORTS' }
};
/** A row of "Test vs foundation" as the summary shows its status: `✅ OPERATIONAL`. */
function componentBadge(status) {
    const presentation = COMPONENT_PRESENTATION[status];
    return presentation === undefined ? '❔ UNKNOWN' : `${presentation.emoji} ${presentation.label}`;
}
// pytest reports an exception outside the test body as an error of its setup or teardown, and
// any exception inside it (an assertion or not) as a failure; the entry does not say which
// exception it was, so a failure of the body is just that.
const PHASE_TYPES = {
    setup: 'Setup error',
    teardown: 'Teardown error',
    collection: 'Collection error'
};
/** What kind of failure a failing test had, from where it failed: "Setup error", "Failure". */
function describeFailureType({ outcome, phase }) {
    if (phase !== 'call' && phase in PHASE_TYPES)
        return PHASE_TYPES[phase];
    return outcome === 'failure' ? 'Failure' : 'Error';
}
const REPORT_STATUS_DESCRIPTIONS = {
    ok: 'was read',
    empty: 'is empty',
    malformed: 'is not well-formed XML',
    unreadable: 'could not be read',
    'not-junit': 'is not a JUnit report'
};
/** What became of a report file, as a predicate: "is empty", "is not a JUnit report". */
function describeReportStatus(status) {
    return REPORT_STATUS_DESCRIPTIONS[status] ?? 'could not be used';
}
/**
 * Categories in the order of the taxonomy: the foundation's first (they explain the others),
 * then the harness's, then `unknown`; a category the taxonomy does not know comes last.
 */
function categoryRank(category) {
    const index = CATEGORIES.indexOf(category);
    return index === -1 ? CATEGORIES.length : index;
}

// Assembles the RunReport from a snapshot of whatever the run got to: a full run, an input error
// before anything started, a cancellation, a crash, or a run a second signal cut short. One pure
// function of plain data (report/snapshot.ts): the session gathers the snapshot, asynchronous
// facts included, so every path writes a report of the same shape. Every gate id always appears,
// in order, so the matrix is complete in every case.
const ACTION_VERSION = '0.1.0';
function buildReport(snapshot) {
    const gates = completeGates(snapshot);
    const report = {
        schemaVersion: 1,
        tool: { name: TOOL_NAME, version: ACTION_VERSION },
        runId: snapshot.runId,
        startedAt: snapshot.startedAt.toISOString(),
        finishedAt: snapshot.finishedAt.toISOString(),
        verdict: snapshot.interrupted && snapshot.interrupted.kind !== 'cancelled' ? 'fail' : verdictOf(gates),
        failOn: snapshot.failOn,
        gates,
        versions: { node: process.versions.node, action: ACTION_VERSION },
        timings: { totalMs: snapshot.totalMs },
        settings: snapshot.settings ? shownSettings(snapshot.settings) : {}
    };
    // A cancelled run proved nothing it did not finish; it must not read as a pass.
    if (snapshot.interrupted) {
        report.interrupted = snapshot.interrupted;
        if (snapshot.interrupted.kind === 'cancelled' && !gates.some((g) => g.status === 'fail'))
            report.verdict = 'fail';
    }
    if (snapshot.gatesMs !== undefined)
        report.timings.gatesMs = snapshot.gatesMs;
    if (snapshot.workerStopMs !== undefined)
        report.timings.workerStopMs = snapshot.workerStopMs;
    if (snapshot.run)
        addRunFacts(report, snapshot.run);
    return report;
}
/** Fills in gates that never produced a result, so every id is in the matrix. */
function completeGates(snapshot) {
    const byId = new Map(snapshot.results.map((r) => [r.id, r]));
    return snapshot.gates.map((gate) => {
        const done = byId.get(gate.id);
        if (done)
            return done;
        const base = { id: gate.id, title: gate.title, description: gate.description, foundation: gate.foundation, durationMs: 0 };
        const i = snapshot.interrupted;
        if (i?.kind === 'input-error' && snapshot.inputErrorGate === gate.id)
            return { ...base, status: 'fail', evidence: i.message };
        const reason = i?.kind === 'input-error'
            ? 'not run: an input is invalid'
            : i?.kind === 'cancelled'
                ? 'not run: the run was cancelled'
                : 'not run: the action stopped early';
        return { ...base, status: 'skip', evidence: reason };
    });
}
function addRunFacts(report, run) {
    if (run.worker)
        report.worker = run.worker;
    const ping = run.ping;
    // Only a ping that was published has an id worth showing.
    if (ping?.published !== false) {
        report.ping = { task: run.pingTask, taskId: run.pingTaskId };
        if (ping?.status !== undefined)
            report.ping.status = ping.status;
        if (ping?.result !== undefined)
            report.ping.result = ping.result;
        if (ping?.roundTripMs !== undefined)
            report.ping.roundTripMs = ping.roundTripMs;
    }
    const t = report.timings;
    if (run.probeMs !== undefined)
        t.probeMs = run.probeMs;
    if (run.workerReadyMs !== undefined)
        t.workerReadyMs = run.workerReadyMs;
    if (ping?.publishedMs !== undefined)
        t.pingPublishedMs = ping.publishedMs;
    if (ping?.pongMs !== undefined)
        t.pongMs = ping.pongMs;
    if (report.ping?.roundTripMs !== undefined)
        t.roundTripMs = report.ping.roundTripMs;
    if (run.trace)
        report.trace = run.trace;
    if (run.tests)
        report.tests = run.tests;
    const v = run.versions;
    if (v)
        report.versions = {
            ...report.versions,
            python: v.python,
            celery: v.celery ?? undefined,
            kombu: v.kombu ?? undefined,
            sqlalchemy: v.sqlalchemy ?? undefined
        };
    if (run.importError)
        report.importError = run.importError;
    if (run.extraPings?.length)
        report.extraPings = run.extraPings.map(({ purpose, queue, task, taskId, status, worker }) => ({
            purpose,
            queue,
            task,
            taskId,
            ...(status ? { status } : {}),
            ...(worker ? { worker } : {})
        }));
}
function shownSettings(s) {
    return {
        app: s.app,
        'working-directory': s.workingDirectory,
        python: s.python,
        'worker-args': s.workerArgs.join(' '),
        // Shown only when set: what the worker was given beyond the rule of celery/worker-env.ts.
        ...(s.workerEnv?.length ? { 'worker-env': s.workerEnv.join(', ') } : {}),
        'database-url': s.databaseUrl ? redactDsn(s.databaseUrl) : '(derived from the broker URL)',
        'expected-role': s.expectedRole,
        ...(s.allowedRoles?.length ? { 'allowed-roles': s.allowedRoles.join(', ') } : {}),
        'ping-task': s.pingTask,
        timeout: String(s.timeoutSeconds),
        'tenant-tables': s.tenantTables?.join(', ') ?? '(every table with a tenant_id column)',
        'fail-on': s.failOn
    };
}

// Lists and texts that grow with the input (one line per tenant table, one name per task) are
// bounded where they are built, and say what they left out, so a reader learns how much is missing
// and where the rest is. A database with 10,000 tenant tables made single evidence strings of
// 5 MB before: the step's outputs and annotations then broke GitHub's limits.
/** How many items a list in evidence shows before it says "… and N more". */
const EVIDENCE_LIST_ITEMS = 10;
/** `9990` → `9,990`: counts in notices are read by people. */
function formatCount(n) {
    return n.toLocaleString('en-US');
}
/** The notice for what a list left out: `… and 9,990 more tables (see the report)`. */
function moreNotice(omitted, { noun = ['item', 'items'], where } = {}) {
    return `… and ${formatCount(omitted)} more ${omitted === 1 ? noun[0] : noun[1]}${where ? ` (${where})` : ''}`;
}
/**
 * The first `max` items joined by `separator`, then — when there were more — the notice for the
 * rest: `a, b, c … and 9,990 more tables (see the report)`.
 */
function listWithMore(items, options = {}) {
    const max = Math.max(1, options.max ?? EVIDENCE_LIST_ITEMS);
    const separator = options.separator ?? ', ';
    if (items.length <= max)
        return items.join(separator);
    return `${items.slice(0, max).join(separator)} ${moreNotice(items.length - max, options)}`;
}
/** The same for lines: the first `max` lines, then one line with the notice. */
function linesWithMore(lines, options = {}) {
    const max = Math.max(1, options.max ?? EVIDENCE_LIST_ITEMS);
    if (lines.length <= max)
        return [...lines];
    return [...lines.slice(0, max), moreNotice(lines.length - max, { noun: ['line', 'lines'], ...options })];
}
/**
 * A text of at most `maxChars` UTF-16 units (what JavaScript and the runner's C# count), cut
 * after a whole line where it can, with a last line saying how much was left out and where it is:
 * `… cut: 9,990 more lines (1,234,567 characters; see the report)`. Never splits a surrogate pair.
 */
function boundText(text, maxChars, where) {
    if (text.length <= maxChars)
        return text;
    // Room for the longest notice this text can get (the counts only shrink).
    const room = Math.max(0, maxChars - cutNotice(text, where).length - 1);
    let cut = text.lastIndexOf('\n', room);
    // Whole lines, unless that would leave most of the room empty (one huge line).
    if (cut < room / 2)
        cut = room;
    if (cut > 0 && isHighSurrogate(text.charCodeAt(cut - 1)))
        cut -= 1;
    const kept = text.slice(0, cut).trimEnd();
    const rest = text.slice(cut).replace(/^\n/, '');
    const notice = cutNotice(rest, where);
    return kept ? `${kept}\n${notice}` : notice.slice(0, maxChars);
}
function cutNotice(rest, where) {
    const lines = countLines(rest);
    return `… cut: ${formatCount(lines)} more line${lines === 1 ? '' : 's'} (${formatCount(rest.length)} characters${where ? `; ${where}` : ''})`;
}
function countLines(text) {
    let n = 1;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1))
        n++;
    return n;
}
function isHighSurrogate(code) {
    return code >= 0xd800 && code <= 0xdbff;
}

// GitHub's documented limits for what a step hands it, and the bounds this action keeps under
// them. The gates bound their lists where they build them (src/util/bounded.ts); these are the
// last line of defence at the sinks, for any text that still grew (outside text, a new gate).
//
// - Outputs: "Outputs can be a maximum of 1 MB per job. The total of all outputs in a workflow run
//   can be a maximum of 50 MB. Size is approximated based on UTF-16 encoding." (docs.github.com,
//   Actions: defining outputs for jobs). A job may have other steps with outputs, so this step's
//   outputs together take at most half of that.
// - Annotations: the runner keeps 10 of each kind per step and cuts each message to 4,096
//   characters (actions/runner ExecutionContext: _maxIssueMessageLength), silently.
// - Job summary: 1 MiB per step, dropped entirely when larger (src/report/budget.ts fits it).
/** What all of this step's outputs together may take, in GitHub's measure (`githubSize`). */
const OUTPUTS_BUDGET_BYTES = 500_000;
/** The `gates` output's share of it; the taxonomy gets what the others leave. */
const GATES_OUTPUT_BUDGET_BYTES = 200_000;
/** What this action puts in one: room under the runner's cut for its notice to survive. */
const ANNOTATION_MESSAGE_BUDGET_CHARS = 4_000;
/** A gate's evidence, as stored in the report (the gates bound their lists long before this). */
const EVIDENCE_MAX_CHARS = 16_000;
/**
 * A gate's details, as stored in the report file. A file may hold far more than an output, but a
 * list that grows with the database (one line per table) still needs a bound.
 */
const DETAILS_MAX_CHARS = 4_000_000;
/** One line of the step's log about a gate. */
const LOG_LINE_MAX_CHARS = 1_000;
/**
 * A value's size as GitHub counts outputs: the UTF-16 approximation (2 bytes a unit), or the UTF-8
 * bytes written to GITHUB_OUTPUT when that is more (characters above U+07FF).
 */
function githubSize(text) {
    return Math.max(2 * text.length, Buffer.byteLength(text, 'utf8'));
}
/** An annotation's message, cut under the runner's limit with what was left out said. */
function annotationMessage(text) {
    return boundText(text, ANNOTATION_MESSAGE_BUDGET_CHARS, 'the job summary and the report have all of it');
}
/**
 * The `gates` output: every gate with its evidence, as JSON of at most `maxBytes` (GitHub's
 * measure). Evidence is cut, the longest first, until it fits; each cut says so.
 */
function gatesOutput(gates, maxBytes = GATES_OUTPUT_BUDGET_BYTES) {
    let limit = EVIDENCE_MAX_CHARS;
    for (;;) {
        const json = JSON.stringify(gates.map((g) => ({ ...g, evidence: boundText(g.evidence, limit, 'see the report') })));
        if (githubSize(json) <= maxBytes || limit <= 200)
            return json;
        limit = Math.floor(limit / 2);
    }
}
/** A JSON array of as many leading items as fit in `maxBytes` (GitHub's measure; still valid JSON). */
function boundedJsonArray(items, maxBytes) {
    const parts = [];
    let bytes = 4;
    for (const item of items) {
        const part = JSON.stringify(item);
        const size = githubSize(part) + (parts.length ? 2 : 0);
        if (bytes + size > maxBytes)
            break;
        parts.push(part);
        bytes += size;
    }
    return { json: `[${parts.join(',')}]`, kept: parts.length, omitted: items.length - parts.length };
}
/**
 * A gate's evidence and details as stored in the report: evidence past EVIDENCE_MAX_CHARS is cut
 * (its whole text moves to the details), details past DETAILS_MAX_CHARS too; each cut says so.
 */
function boundGateText(evidence, details) {
    let full = details;
    if (evidence.length > EVIDENCE_MAX_CHARS)
        full = `The evidence in full:\n${evidence}${details ? `\n\n${details}` : ''}`;
    const bounded = { evidence: boundText(evidence, EVIDENCE_MAX_CHARS, 'the details have all of it') };
    return full === undefined ? bounded : { ...bounded, details: boundText(full, DETAILS_MAX_CHARS, 'bounded in the report file') };
}

/** What the worker must do for these gates beyond the run's ping: the union of their needs. */
function workerNeeds(gates) {
    return [...new Set(gates.flatMap((g) => g.needsFromWorker ?? []))];
}
async function runGates(gates, settings, facts, hooks = {}) {
    const results = [];
    // For a skipped gate, the failed gate that caused the skip (so every skip names the real cause).
    const cause = new Map();
    let judging = false;
    for (const gate of gates) {
        if (gate.judgesRun && !judging) {
            judging = true;
            await hooks.beforeJudges?.([...results]);
        }
        hooks.onGateStart?.(gate);
        const t0 = performance.now();
        // Only prerequisites that ran can block: a gate turned off (the `gates` input) is not a failure.
        const blocked = results.find((r) => gate.needs.includes(r.id) && (r.status === 'fail' || r.status === 'skip'));
        let status;
        let evidence;
        let details;
        if (facts.cancelled()) {
            status = 'skip';
            evidence = 'not run: the run was cancelled';
        }
        else if (blocked) {
            status = 'skip';
            const root = blocked.status === 'fail' ? blocked.id : (cause.get(blocked.id) ?? blocked.id);
            cause.set(gate.id, root);
            evidence = `not run: \`${root}\` ${results.find((r) => r.id === root)?.status === 'fail' ? 'failed' : 'was skipped'}`;
        }
        else {
            const ctx = { settings, facts, earlier: [...results] };
            try {
                const v = await gate.run(ctx);
                ({ status, evidence, details } = v);
            }
            catch (err) {
                if (facts.cancelled()) {
                    status = 'skip';
                    evidence = 'not run: the run was cancelled';
                }
                else {
                    status = 'fail';
                    evidence = `the check could not complete: ${facts.redact(errorLine(err))}`;
                    details = facts.redact(err?.stack ?? String(err));
                }
            }
        }
        ({ evidence, details } = boundGateText(evidence, details));
        const result = {
            id: gate.id,
            title: gate.title,
            description: gate.description,
            status,
            evidence,
            foundation: gate.foundation,
            durationMs: Math.round(performance.now() - t0)
        };
        if (details !== undefined)
            result.details = details;
        results.push(result);
        hooks.onGateEnd?.(result);
    }
    if (!judging)
        await hooks.beforeJudges?.([...results]);
    return results;
}
function errorLine(err) {
    const msg = err instanceof Error ? err.message : String(err);
    return msg.split('\n')[0] ?? msg;
}

/** Shows a given value in a one-line error without flooding the line or printing control characters. */
function quoteGiven(value) {
    const flat = value.replace(/[\u0000-\u001f\u007f]/g, '?');
    return JSON.stringify(flat.length > 80 ? `${flat.slice(0, 77)}...` : flat);
}
// SQL text the action writes (queries) or suggests (remediation in evidence): every identifier is
// quoted, always — a role `App-User` or a table `Weird-Table` pasted from a suggestion must work.
/** An identifier, quoted: `App-User` → `"App-User"`. */
function quoteIdent(name) {
    return `"${name.replace(/"/g, '""')}"`;
}
/** `schema.table` or `table`, each part quoted. */
function qualified(table, schema) {
    return schema ? `${quoteIdent(schema)}.${quoteIdent(table)}` : quoteIdent(table);
}
/** A string literal: `it's` → `'it''s'`. */
function quoteLiteral(value) {
    return `'${value.replace(/'/g, "''")}'`;
}
/**
 * A configuration parameter's name as ALTER ROLE … RESET takes it: each dotted part quoted
 * (`app.current_tenant_id` → `"app"."current_tenant_id"`; parameter names ignore case).
 */
function quoteSettingName(name) {
    return name.split('.').map(quoteIdent).join('.');
}

const ACTION_APPLICATION_NAME = 'celery-foundation-gates';
const DEFAULTS = { connectTimeoutMs: 5000, statementTimeoutMs: 5000, lockTimeoutMs: 2000 };
function describeDbError(err) {
    const e = err;
    const message = (e?.message ?? String(err)).split('\n')[0] ?? '';
    return { code: typeof e?.code === 'string' ? e.code : undefined, message };
}
/** SQLSTATE classes that mean "the server refused this login": auth, unknown db/role, connection. */
function isRefusal(failure) {
    const code = failure.code ?? '';
    return (code.startsWith('28') || // invalid authorization / password
        code === '3D000' || // database does not exist
        code.startsWith('08') || // connection exceptions
        code === '53300' || // too many connections
        code === '57P03' || // cannot connect now (starting up)
        ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH'].includes(code) ||
        /timeout|terminated|Connection terminated/i.test(failure.message));
}
async function connect(parts, opts = {}) {
    const o = { ...DEFAULTS, ...opts };
    // Loaded on the first connection, not at start: a run that ends at its inputs never needs it.
    const { default: pg } = await import('./shared-esm.js');
    const client = new pg.Client({
        ...toPgConfig(parts),
        application_name: ACTION_APPLICATION_NAME,
        connectionTimeoutMillis: o.connectTimeoutMs,
        statement_timeout: o.statementTimeoutMs,
        lock_timeout: o.lockTimeoutMs,
        // Client-side bound too: a server that stops answering mid-query must not hang us.
        query_timeout: o.statementTimeoutMs + 1000,
        keepAlive: true
    });
    // A server that goes away later emits 'error' on the idle client; the next query reports it.
    client.on('error', () => { });
    await client.connect().catch(async (err) => {
        await client.end().catch(() => { });
        throw err;
    });
    const rows = await client.query('SELECT current_user AS role');
    const role = rows.rows[0]?.role ?? '';
    let closed = false;
    return {
        role,
        async query(sql, params = []) {
            const res = await client.query(sql, params);
            return res.rows;
        },
        async close() {
            if (closed)
                return;
            closed = true;
            await Promise.race([client.end().catch(() => { }), new Promise((r) => setTimeout(r, 2000).unref())]);
        }
    };
}

// What kombu's PGMQ transport (kombu/transport/pgmq.py, kombu 5.7) does with a message and a
// queue name, transcribed so the run publishes exactly as a producer of the app would:
// - queue names: `entity_name(queue_name_prefix + name)`, every ASCII punctuation character but
//   `_` replaced by `_` (`cfg-1a2b3c4d.ping` -> `cfg_1a2b3c4d_ping`);
// - `_put`: `pgmq.send(queue_name, message, **_pgmq_send_kwargs(message))`, the message being the
//   virtual transport's envelope (body, content-encoding, content-type, headers, properties) as
//   JSONB, `headers` the envelope's headers (plus properties.MessageGroupId) when there are any,
//   `delay` properties.DelaySeconds when positive.
/** PGMQ's longest queue name (pgmq.validate_queue_name: 63-character identifiers less 16). */
const PGMQ_MAX_QUEUE_NAME = 47;
/** Python's string.punctuation without `_`: what kombu's CHARS_REPLACE_TABLE maps to `_`. */
const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^`{|}~]/g;
function pgmqQueueName(prefix, queue) {
    return `${prefix}${queue}`.replace(PUNCTUATION, '_');
}
/** The pidbox queue a worker node declares for remote control (kombu's Mailbox: `<node>.celery.pidbox`). */
function pidboxQueue(prefix, nodeName) {
    return pgmqQueueName(prefix, `${nodeName}.celery.pidbox`);
}
/** kombu's `_pgmq_send_kwargs` for the envelope `payload` (JSON text Celery built). */
function pgmqSendArgs(payload) {
    const message = JSON.parse(payload);
    const headers = { ...(message.headers ?? {}) };
    const properties = message.properties ?? {};
    if ('MessageGroupId' in properties && !('MessageGroupId' in headers))
        headers.MessageGroupId = properties.MessageGroupId;
    const args = {};
    if (Object.keys(headers).length)
        args.headers = JSON.stringify(headers);
    if ('DelaySeconds' in properties) {
        // int() of a number or numeric string; anything else is 0 (kombu's except branch).
        const raw = properties.DelaySeconds;
        const n = typeof raw === 'number' ? Math.trunc(raw) : typeof raw === 'string' && /^\s*[+-]?\d+\s*$/.test(raw) ? Number.parseInt(raw, 10) : 0;
        const delay = Math.max(0, Number.isFinite(n) ? n : 0);
        if (delay)
            args.delay = delay;
    }
    return args;
}

// What the worker's role needs on PGMQ for kombu's pgmq:// transport (kombu 5.7, PGMQ 1.13), as
// data: each need with the kombu/PGMQ call that makes it necessary. Found in kombu's
// kombu/transport/pgmq.py and PGMQ's pgmq.sql, and proven by real workers with one privilege
// revoked at a time (test/integration/pgmq-privileges.test.ts; /work/notes/pgmqdb.md). PGMQ's
// functions are SECURITY INVOKER: a function's own statements run with the caller's privileges,
// so the worker needs the tables they touch, and EXECUTE on each function the chain calls.
const PGMQ_SCHEMA = 'pgmq';
const BOOT = 'the worker exits at boot (CRITICAL Unrecoverable error)';
const fn = (object, why, without) => ({
    kind: 'function',
    object,
    privilege: 'EXECUTE',
    why,
    ...(without ? { without } : {})
});
const PGMQ_NEEDS = [
    {
        kind: 'schema',
        object: PGMQ_SCHEMA,
        privilege: 'USAGE',
        why: "every PGMQ function and table lives in it (kombu's first call on connect is pgmq.list_queues())",
        without: `${BOOT}: permission denied for schema pgmq`
    },
    {
        kind: 'schema',
        object: PGMQ_SCHEMA,
        privilege: 'CREATE',
        why: 'kombu calls pgmq.create() for every queue it declares, existing or not; it runs CREATE TABLE IF NOT EXISTS pgmq.q_<queue>/a_<queue>, which PostgreSQL checks against the schema first',
        without: `${BOOT}: permission denied for schema pgmq (even when the queue tables exist)`
    },
    {
        kind: 'table',
        object: 'pgmq.meta',
        privilege: 'SELECT',
        why: 'pgmq.list_queues() reads it on connect',
        without: `${BOOT}: permission denied for table meta`
    },
    {
        kind: 'table',
        object: 'pgmq.meta',
        privilege: 'INSERT',
        why: 'pgmq.create() registers each queue in it',
        without: `${BOOT}: permission denied for table meta`
    },
    {
        kind: 'table',
        object: 'pgmq.topic_bindings',
        privilege: 'SELECT',
        why: "pgmq.bind_topic() binds the worker's pidbox queue to its fanout exchange with INSERT … ON CONFLICT, which needs SELECT",
        without: `${BOOT}: permission denied for table topic_bindings`
    },
    {
        kind: 'table',
        object: 'pgmq.topic_bindings',
        privilege: 'INSERT',
        why: "pgmq.bind_topic() binds the worker's pidbox queue to its fanout exchange",
        without: `${BOOT}: permission denied for table topic_bindings`
    },
    fn('pgmq.list_queues()', 'kombu lists the queues on connect and to check a queue exists'),
    fn('pgmq."create"(text)', 'kombu declares each queue it consumes'),
    fn('pgmq.create_non_partitioned(text)', 'called by pgmq.create()'),
    fn('pgmq.validate_queue_name(text)', 'called by pgmq.create()'),
    fn('pgmq.acquire_queue_lock(text)', 'called by pgmq.create()'),
    fn('pgmq.format_table_name(text,text)', 'called by every PGMQ function that names a queue table'),
    fn('pgmq.bind_topic(text,text)', "binds the worker's pidbox queue to its fanout exchange"),
    fn('pgmq.validate_topic_pattern(text)', 'called by pgmq.bind_topic()'),
    fn('pgmq.read_with_poll(text,integer,integer,integer,integer,jsonb)', 'the worker reads its queues (long poll, wait_time_seconds)'),
    fn('pgmq.pop(text,integer)', 'the worker reads its pidbox queue (no_ack)'),
    fn('pgmq.delete(text,bigint)', 'the worker acknowledges a message by deleting it', 'the ack fails (ERROR … permission denied for function delete) and the message comes back after visibility_timeout'),
    fn('pgmq.metrics(text)', 'kombu sizes a queue when it declares it'),
    fn('pgmq.send(text,jsonb,jsonb)', 'kombu publishes with headers (tasks sent from tasks, retries, control replies)'),
    fn('pgmq.send(text,jsonb,jsonb,timestamp with time zone)', 'called by every pgmq.send() overload'),
    fn('pgmq.set_vt(text,bigint,integer)', 'kombu requeues a rejected message and restores unacknowledged ones at shutdown'),
    fn('pgmq.set_vt(text,bigint,timestamp with time zone)', 'called by pgmq.set_vt(text,bigint,integer)')
];
/** The statement that grants `need` to `role` (an identifier, quoted here). */
function grantFor(need, role) {
    const on = need.kind === 'schema' ? `SCHEMA ${need.object}` : need.kind === 'function' ? `FUNCTION ${need.object}` : need.object;
    return `GRANT ${need.privilege} ON ${on} TO ${quoteIdent(role)}`;
}
/** The two tables pgmq.create() makes for a queue: messages (q_) and archive (a_), lower-cased. */
function queueTables(pgmqName) {
    return { queue: `q_${pgmqName}`.toLowerCase(), archive: `a_${pgmqName}`.toLowerCase() };
}
/** Why PGMQ refuses a queue name (pgmq.validate_queue_name / format_table_name), or undefined. */
function queueNameProblem(pgmqName) {
    if (pgmqName.length > PGMQ_MAX_QUEUE_NAME)
        return `longer than PGMQ's ${PGMQ_MAX_QUEUE_NAME} characters (${pgmqName.length})`;
    return undefined;
}
/**
 * The PGMQ part of the `sql` command's script: a guard that PGMQ is installed, then the worker's
 * grants (privileges on one object in one GRANT), each group with its why. PGMQ's functions are
 * EXECUTE for PUBLIC as installed; their GRANTs matter where an owner revoked that.
 */
function pgmqGrantScript(role) {
    const out = [
        "-- Broker: PGMQ (kombu's pgmq:// transport). The worker's role needs these (the db-access gate checks",
        '-- each). It creates and owns its queue tables (q_<queue>, a_<queue>) itself at boot: a queue another',
        '-- role declared first kills it ("must be owner of table q_…"). init_extension must be off unless PGMQ',
        '-- is installed as the extension: broker_transport_options={"init_extension": False}.',
        "DO $$ BEGIN IF to_regnamespace('pgmq') IS NULL THEN RAISE EXCEPTION 'PGMQ is not installed (no schema pgmq): run CREATE EXTENSION pgmq or the pgmq package''s SQL install first'; END IF; END $$;"
    ];
    const grouped = new Map();
    for (const need of PGMQ_NEEDS) {
        const key = `${need.kind} ${need.object}`;
        grouped.set(key, [...(grouped.get(key) ?? []), need]);
    }
    let functions = false;
    for (const needs of grouped.values()) {
        const first = needs[0];
        if (first.kind === 'function' && !functions) {
            functions = true;
            out.push("-- PGMQ functions kombu calls (EXECUTE is PUBLIC's as installed; needed where it was revoked).");
        }
        if (first.kind !== 'function')
            out.push(...needs.map((n) => `-- ${n.privilege} on ${n.object}: ${n.why}`));
        out.push(grantFor({ ...first, privilege: needs.map((n) => n.privilege).join(', ') }, role) + ';');
    }
    return out;
}

async function pgmqInstall(db) {
    const [row] = await db.query(`SELECT (SELECT pg_get_userbyid(n.nspowner) FROM pg_namespace n WHERE n.nspname = $1) AS schema_owner,
            e.extversion AS ext_version, pg_get_userbyid(e.extowner) AS ext_owner,
            v.version AS av_version, v.superuser AS av_superuser, v.trusted AS av_trusted,
            (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1)::int AS functions
       FROM (SELECT 1) one
       LEFT JOIN pg_extension e ON e.extname = 'pgmq'
       LEFT JOIN pg_available_extensions a ON a.name = 'pgmq'
       LEFT JOIN pg_available_extension_versions v ON v.name = 'pgmq' AND v.version = a.default_version`, [PGMQ_SCHEMA]);
    return {
        schema: row?.schema_owner != null,
        ...(row?.schema_owner != null ? { schemaOwner: row.schema_owner } : {}),
        ...(row?.ext_version != null ? { extension: { version: row.ext_version, owner: row.ext_owner ?? '?' } } : {}),
        ...(row?.av_version != null ? { available: { version: row.av_version, superuser: row.av_superuser === true, trusted: row.av_trusted === true } } : {}),
        functions: row?.functions ?? 0
    };
}
/** Each need checked for `role`, one privilege per call; objects that do not exist are marked. */
async function checkPgmqNeeds(db, role, needs) {
    if (!needs.length)
        return [];
    const rows = await db.query(`SELECT c.i,
            CASE c.kind WHEN 'schema' THEN to_regnamespace(c.obj) IS NOT NULL
                        WHEN 'table' THEN to_regclass(c.obj) IS NOT NULL
                        ELSE to_regprocedure(c.obj) IS NOT NULL END AS exists,
            CASE WHEN c.kind = 'schema' AND to_regnamespace(c.obj) IS NOT NULL THEN has_schema_privilege($1, to_regnamespace(c.obj), c.priv)
                 WHEN c.kind = 'table' AND to_regclass(c.obj) IS NOT NULL THEN has_table_privilege($1, to_regclass(c.obj), c.priv)
                 WHEN c.kind = 'function' AND to_regprocedure(c.obj) IS NOT NULL THEN has_function_privilege($1, to_regprocedure(c.obj), c.priv)
            END AS granted
       FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS c(kind, obj, priv, i)`, [role, needs.map((n) => n.kind), needs.map((n) => n.object), needs.map((n) => n.privilege)]);
    return rows.map((r) => ({ ...needs[Number(r.i) - 1], role, exists: r.exists, granted: r.granted === true }));
}
/** Which of the named pgmq tables exist, who owns them, and whether `role` passes the owner check. */
async function queueTableOwners(db, role, tables) {
    if (!tables.length)
        return [];
    const rows = await db.query(`SELECT c.relname::text AS table, pg_get_userbyid(c.relowner) AS owner,
            pg_has_role($1, c.relowner, 'USAGE') AS owned
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $2 AND c.relname = ANY($3::text[])
      ORDER BY 1`, [role, PGMQ_SCHEMA, tables]);
    return rows.map((r) => ({ table: r.table, owner: r.owner, ownedByRole: r.owned }));
}
async function extensionRights(db, role) {
    const [row] = await db.query(`SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = $1) AS superuser,
            has_database_privilege($1, current_database(), 'CREATE') AS create_db,
            current_database() AS database`, [role]);
    return { superuser: row?.superuser === true, createOnDatabase: row?.create_db === true, database: row?.database ?? '' };
}

const FIX_INIT = 'set broker_transport_options={"init_extension": False} (PGMQ is installed by its owner, not by the worker)';
function installAdvice(database) {
    return (`install PGMQ in ${database} as its owner: CREATE EXTENSION pgmq (where the server has the extension), ` +
        `or the pgmq package's SQL-only install: python -c "import pgmq.install as i; i.install_pgmq_from_sql(dsn='postgresql://OWNER@HOST/${database}')"`);
}
function describeInstall(install, options) {
    if (install.extension)
        return `PGMQ ${install.extension.version} (extension, owner ${install.extension.owner})`;
    const bundled = options?.bundled_sql ? `; the worker's pgmq package${options.package ? ` ${options.package}` : ''} bundles PGMQ ${options.bundled_sql}` : '';
    return `PGMQ SQL-only install (schema pgmq, ${install.functions} functions; no version recorded in the database${bundled})`;
}
/**
 * What kills the worker at boot on PGMQ whatever its privileges: PGMQ missing, kombu's
 * `CREATE EXTENSION IF NOT EXISTS pgmq CASCADE` (init_extension, on by default) where it cannot
 * succeed, a queue name PGMQ refuses, a queue table another role owns. `role` is the worker's.
 */
async function pgmqBootProblems(db, options, role, queues) {
    const install = await pgmqInstall(db);
    const problems = [];
    const lines = [];
    const initOn = options?.init_extension ?? true;
    const rights = await extensionRights(db, role);
    const dbName = rights.database;
    if (install.extension) {
        lines.push(describeInstall(install, options));
        if (initOn)
            lines.push('init_extension on: CREATE EXTENSION IF NOT EXISTS pgmq is a no-op where the extension is installed');
    }
    else if (install.schema && install.functions > 0) {
        lines.push(describeInstall(install, options));
        if (initOn)
            problems.push(install.available
                ? `init_extension is on (kombu's default) and PGMQ is a SQL-only install: the worker's CREATE EXTENSION IF NOT EXISTS pgmq CASCADE runs PGMQ's script over it and fails ('table meta is not a member of extension "pgmq"'), and the worker retries connecting without end — ${FIX_INIT}`
                : `init_extension is on (kombu's default) and PGMQ is a SQL-only install on a server without the pgmq extension: the worker's CREATE EXTENSION IF NOT EXISTS pgmq CASCADE exits it at boot ('extension "pgmq" is not available'), whatever its role — ${FIX_INIT}`);
    }
    else {
        const what = install.schema ? `schema pgmq in ${dbName} has no PGMQ functions` : `PGMQ is not installed in ${dbName} (no schema pgmq)`;
        if (!initOn)
            problems.push(`${what}: kombu's pgmq:// transport needs it — ${installAdvice(dbName)}`);
        else if (!install.available)
            problems.push(`${what}, and the server has no pgmq extension: the worker's CREATE EXTENSION (init_extension on, kombu's default) exits it at boot ('extension "pgmq" is not available') — ${installAdvice(dbName)}, then ${FIX_INIT}`);
        else {
            const may = rights.superuser || (rights.createOnDatabase && (!install.available.superuser || install.available.trusted));
            const needs = install.available.superuser && !install.available.trusted ? 'a superuser' : `CREATE on database ${dbName}`;
            if (may)
                lines.push(`${what}; init_extension on: the worker's role ${role} will create extension pgmq ${install.available.version} at boot (and own it)`);
            else
                problems.push(`${what}, and the worker's role ${role} may not create extension pgmq (needs ${needs}): the worker's CREATE EXTENSION (init_extension on, kombu's default) exits it at boot ` +
                    `("permission denied for database ${dbName}") — have the database owner run CREATE EXTENSION pgmq, then ${FIX_INIT}`);
        }
    }
    if (options?.conn_string)
        lines.push("conn_string is set in broker_transport_options: the worker connects with it, not the broker URL; checked: the broker URL's database");
    problems.push(...queueNameProblems(options, queues));
    if (install.schema && queues)
        problems.push(...(await foreignQueueTables(db, role, options, queues)));
    return { install, problems, lines };
}
function queueNameProblems(options, queues) {
    if (!queues)
        return [];
    const prefix = options?.queue_name_prefix ?? '';
    const out = [];
    for (const q of queues.consumed) {
        const name = pgmqQueueName(prefix, q);
        const problem = queueNameProblem(name);
        if (problem)
            out.push(`queue ${q} is ${name} in PGMQ, ${problem}: the worker exits at boot ("queue name is too long, maximum length is 47 characters") — shorten the queue name${prefix ? ' or queue_name_prefix' : ''}`);
    }
    if (queues.nodeName) {
        const name = pidboxQueue(prefix, queues.nodeName);
        const problem = queueNameProblem(name);
        if (problem)
            out.push(`the worker's pidbox queue ${name} (from its node name ${queues.nodeName}) is ${problem}: the worker exits at boot ("queue name is too long, maximum length is 47 characters") — give the worker a shorter node name (-n name@host)`);
    }
    return out;
}
async function foreignQueueTables(db, role, options, queues) {
    const prefix = options?.queue_name_prefix ?? '';
    const perRun = new Set(queues.perRun ?? []);
    const byTable = new Map();
    for (const q of queues.consumed) {
        if (perRun.has(q))
            continue;
        const t = queueTables(pgmqQueueName(prefix, q));
        byTable.set(t.queue, q).set(t.archive, q);
    }
    const owners = await queueTableOwners(db, role, [...byTable.keys()]);
    return owners
        .filter((o) => !o.ownedByRole)
        .map((o) => `pgmq.${o.table} (queue ${byTable.get(o.table)}) is owned by ${o.owner}, not by the worker's role ${role}: kombu runs pgmq.create() for every queue it declares, ` +
        `and its CREATE INDEX IF NOT EXISTS needs the owner — the worker exits at boot ("must be owner of table ${o.table}") — ALTER TABLE pgmq.${quoteIdent(o.table)} OWNER TO ${quoteIdent(role)}`);
}

/**
 * Runs a plane's clean-up steps one by one (a refused step does not stop the others): what was
 * removed, and what stays and why. A step whose relation (or schema) never came to exist
 * (`absent` SQLSTATEs) has nothing to remove; a refusal (42501) is said with `denied`.
 */
async function runCleanupSteps(db, steps, opts) {
    const removed = [];
    const left = [];
    for (const [what, sql, params] of steps) {
        try {
            await db.query(sql, params);
            removed.push(what);
        }
        catch (err) {
            const e = err;
            if (e.code && opts.absent.includes(e.code))
                continue;
            const why = e.code === '42501' ? opts.denied(e.message) : (e.message ?? 'error');
            left.push(what === 'dead-letter row' ? `the probe task's dead-letter row, task id ${opts.deadLetterTaskId} (${why})` : `${what} (${why})`);
        }
    }
    return { removed, left };
}

// kombu 5.7's PGMQ transport (pgmq://): each queue is a pair of tables in PGMQ's schema
// (pgmq.q_<queue>, pgmq.a_<queue>) listed in pgmq.meta, declared by pgmq.create() and written by
// pgmq.send(). The run publishes exactly as kombu/transport/pgmq.py does (envelope.ts), on a queue
// of its own that it declares first AS THE WORKER'S ROLE (the broker DSN): kombu calls
// pgmq.create() for every queue it declares, and its CREATE INDEX IF NOT EXISTS fails on tables
// another role owns, so the worker must own its queue tables — a queue the action created under
// another role would kill the worker at boot. pgmq.create() takes an advisory lock per queue, so
// concurrent runs declaring the app's queues do not race the way kombu's sqla get-or-create does.
/** The options of kombu's transport the run needs (bootstrap.py reports them, pgmq_probe.py). */
function prefixOf(probe) {
    return probe.broker.pgmq?.queue_name_prefix ?? '';
}
const nameOf$1 = (probe, queue) => pgmqQueueName(prefixOf(probe), queue);
/**
 * PGMQ's schema is there (extension or SQL-only install). A PGMQ too old for kombu's calls (no
 * `pgmq.send` with headers) then fails the publish with PostgreSQL's own `function … does not
 * exist`, which the run reports, rather than a wait for the worker.
 */
async function ready(db) {
    const [row] = await db.query("SELECT to_regclass('pgmq.meta')::text AS meta");
    return !!row?.meta;
}
async function queueExists$1(db, probe, queue) {
    if (!(await ready(db)))
        return false;
    return (await db.query('SELECT 1 FROM pgmq.meta WHERE queue_name = $1', [nameOf$1(probe, queue)])).length > 0;
}
/**
 * Declares every queue the worker will consume (pgmq.create, as kombu's _new_queue does; a no-op
 * for one that exists) and sends the messages with kombu's own arguments (its _put): the message
 * as JSONB, its headers as PGMQ headers, a delay only when the message asks for one.
 */
async function publish$1(db, probe, queues, messages) {
    // A partitioned queue is kombu's to create (pgmq.create_partitioned_queue): declared here as a
    // plain queue it would stay one. A ping for one the worker has not declared yet is not sent.
    const partitioned = new Set(probe.broker.pgmq?.partitioned_queues ?? []);
    const names = [...new Set([...queues, ...messages.map((m) => m.queue)])].filter((q) => !partitioned.has(q)).map((q) => nameOf$1(probe, q));
    await db.query('BEGIN');
    try {
        for (const name of names)
            await db.query('SELECT pgmq.create($1::text)', [name]);
        const sent = [];
        for (const msg of messages) {
            if (partitioned.has(msg.queue) && !(await db.query('SELECT 1 FROM pgmq.meta WHERE queue_name = $1', [nameOf$1(probe, msg.queue)])).length)
                continue;
            const queue = nameOf$1(probe, msg.queue);
            const args = pgmqSendArgs(msg.payload);
            const rows = await db.query(`SELECT * FROM pgmq.send(queue_name => $1::text, msg => $2::jsonb${args.headers !== undefined ? ', headers => $3::jsonb' : ''}${args.delay !== undefined ? `, delay => $${args.headers !== undefined ? 4 : 3}::integer` : ''}) AS id`, [queue, msg.payload, ...(args.headers !== undefined ? [args.headers] : []), ...(args.delay !== undefined ? [args.delay] : [])]);
            sent.push(...rows.map((r) => ({ queue, id: Number(r.id) })));
        }
        await db.query('COMMIT');
        return sent;
    }
    catch (err) {
        await db.query('ROLLBACK').catch(() => { });
        throw err;
    }
}
/**
 * Removes the run's queue and the worker's pidbox queue (pgmq.drop_queue: both tables and their
 * pgmq.meta row; the pidbox queue's fanout binding goes with it), the pings it left in the app's
 * queues (by message id, never another message), its result rows and the probe's dead letter.
 */
async function removeTrace$1(db, trace, opts = {}) {
    const probe = trace.probe;
    const own = [nameOf$1(probe, trace.queue), pidboxQueue(prefixOf(probe), trace.nodeName)];
    const byQueue = new Map();
    for (const m of trace.sent)
        if (!own.includes(m.queue))
            byQueue.set(m.queue, [...(byQueue.get(m.queue) ?? []), m.id]);
    const steps = [
        ...[...byQueue].map(([queue, ids]) => [
            `pings in ${queue}`,
            // Only when the queue still exists (pgmq.delete raises on a missing one).
            'SELECT pgmq.delete($1::text, $2::bigint[]) FROM pgmq.meta WHERE queue_name = $1',
            [queue, ids]
        ]),
        // A kept worker still consumes the run's queue and answers on its pidbox.
        ...(opts.keepQueue
            ? []
            : own.map((queue) => [`queue ${queue}`, 'SELECT pgmq.drop_queue(queue_name) FROM pgmq.meta WHERE queue_name = $1', [queue]])),
        ['result rows', `DELETE FROM ${qualified(probe.tables.task, probe.tables.task_schema)} WHERE task_id = ANY($1::text[])`, [trace.taskIds]]
    ];
    const dlq = trace.deadLetter;
    if (dlq)
        steps.push(['dead-letter row', `DELETE FROM ${dlq.table} t WHERE strpos(to_jsonb(t)::text, $1) > 0`, [dlq.taskId]]);
    if (!opts.keepQueue && trace.applicationName)
        await cancelLingeringPolls(db, trace.applicationName);
    // 42P01 / 3F000: the table or PGMQ's schema never came to exist: nothing to remove.
    const { removed, left } = await runCleanupSteps(db, steps, {
        absent: ['42P01', '3F000'],
        denied: (message) => `${db.role} may not: ${message ?? 'permission denied'}`,
        ...(dlq ? { deadLetterTaskId: dlq.taskId } : {})
    });
    if (!left.length) {
        const dead = removed.includes('dead-letter row') ? ", the probe task's dead-letter row" : '';
        const detail = opts.keepQueue
            ? `removed the run's pings${dead} and result rows; queue ${own[0]} and pidbox queue ${own[1]} stay while the kept worker consumes them`
            : `removed the run's PGMQ queue ${own[0]}, the worker's pidbox queue ${own[1]}${dead} and the result rows`;
        return { removed: true, detail };
    }
    const done = removed.length ? `removed ${removed.join(', ')}; ` : '';
    return { removed: false, detail: `${done}left in the database: ${left.join(', ')}` };
}
/**
 * A worker killed during a long poll leaves its `pgmq.read_with_poll` running on the server for up
 * to wait_time_seconds, holding a lock on the queue's table that pgmq.drop_queue must wait for
 * (longer than the action's lock_timeout). Once the worker is stopped, the run's own sessions (its
 * application_name, the worker's role) still busy are cancelled; nobody else's.
 */
async function cancelLingeringPolls(db, applicationName) {
    await db
        .query(`SELECT pg_cancel_backend(pid) FROM pg_stat_activity
        WHERE application_name = $1 AND state = 'active' AND pid <> pg_backend_pid() AND datname = current_database()`, [applicationName])
        .catch(() => { });
}
/** The PGMQ found in the database: an extension records its version, a SQL-only install none. */
async function evidence(open, probe, names) {
    const info = probe.broker.pgmq;
    const lines = [`data plane: kombu's PGMQ transport${probe.versions.kombu ? ` (kombu ${probe.versions.kombu})` : ''}`];
    const problems = [];
    try {
        // Asked as the worker's role (the connection is the broker URL's): what its boot will meet.
        const db = await open();
        const consumed = probe.consumed_queues ?? probe.default_consumed_queues ?? [];
        const boot = await pgmqBootProblems(db, info, db.role, { consumed: [...consumed, names.queue], nodeName: names.nodeName, perRun: [names.queue] });
        lines.push(...boot.lines);
        problems.push(...boot.problems);
    }
    catch (err) {
        lines.push(`PGMQ not checked in the database: ${err.message}`);
    }
    if (info)
        lines.push(`visibility timeout ${info.visibility_timeout ?? 1800} s: a message read and not acknowledged comes back after it`);
    return { lines, problems };
}
/**
 * The names the worker will declare, each within PGMQ's 47 characters (pgmq.validate_queue_name:
 * a longer one kills the worker at boot), and a transport that loads.
 */
function probeProblems(probe, names) {
    const problems = [];
    const error = probe.broker.transport_error;
    if (error)
        problems.push(/No such transport/.test(error)
            ? `broker is pgmq://, which kombu ${probe.versions.kombu ?? ''} cannot load (${error}): kombu's PGMQ transport needs kombu 5.7 or later`
            : `kombu's PGMQ transport cannot load: ${error}${/pip install/.test(error) ? '' : ' (pip install "kombu[pgmq]")'}`);
    const prefix = prefixOf(probe);
    const queues = [...new Set([...(probe.consumed_queues ?? []), ...(names ? [names.queue] : [])])].map((q) => pgmqQueueName(prefix, q));
    if (names)
        queues.push(pidboxQueue(prefix, names.nodeName));
    for (const q of queues)
        if (q.length > PGMQ_MAX_QUEUE_NAME)
            problems.push(`PGMQ queue name ${q} is ${q.length} characters, over PGMQ's ${PGMQ_MAX_QUEUE_NAME}: the worker would die declaring it (queue name is too long)${prefix ? `; queue_name_prefix '${prefix}' counts too` : ''}`);
    return problems;
}
/**
 * kombu's PGMQ transport does not leave gaps to libpq: it connects as `postgres` to database
 * `postgres` on localhost:5432 unless the URL says otherwise (Transport._create_pgmq_client), so
 * the action connects the same way. `conn_string` replaces the URL altogether.
 */
function resolve(parts, probe) {
    const database = parts.database && parts.database !== '/' ? parts.database.replace(/^\//, '') : 'postgres';
    const filled = {
        ...parts,
        host: parts.host || 'localhost',
        port: parts.port ?? 5432,
        database,
        username: parts.username || 'postgres',
        password: parts.password ?? ''
    };
    const notes = probe.broker.pgmq?.conn_string
        ? ["broker_transport_options sets conn_string, which the worker connects with instead of the broker URL: the action's checks use the URL"]
        : [];
    return { parts: filled, notes };
}
function ownsObject$1(object, probe) {
    const t = probe.tables;
    const [schema, name] = object.includes('.') ? object.split('.', 2) : [undefined, object];
    if (schema === 'pgmq' || object === 'pgmq')
        return true;
    return ['meta', 'topic_bindings', t.task, t.group, 'task_id_sequence', 'taskset_id_sequence', 'public'].includes(name ?? '') || /^[qa]_\w+$/.test(name ?? '');
}
const pgmqPlane = {
    kind: 'pgmq',
    label: "kombu's PGMQ transport",
    recognises: (parts) => !parts.prefix && parts.scheme === 'pgmq',
    probeProblems,
    resolve,
    queueName: nameOf$1,
    ready: (db) => ready(db),
    queueExists: queueExists$1,
    publish: publish$1,
    removeTrace: removeTrace$1,
    evidence,
    ownsObject: ownsObject$1,
    // Quoted: kombu keeps a queue name's non-punctuation characters (a space), which to_regclass
    // would otherwise not find (and then no lock holder is named).
    lockedTables: (probe, queues) => ['pgmq.meta', ...queues.map((q) => qualified(`q_${nameOf$1(probe, q).toLowerCase()}`, 'pgmq'))]
};

// kombu's SQLAlchemy transport (sqla+postgresql://): messages put into its broker tables exactly as its transport does: the
// payload Celery built (bootstrap.py), a row in the queue table for each queue, no column left to
// a default. Queue rows for every queue the worker will consume are created before it starts:
// kombu's get-or-create is not atomic, and a worker that loses that race to a concurrent insert
// dies (so with eight runs on one database, someone must create them first, without a race).
// removeTrace undoes it all once the run is over.
async function brokerTablesExist(db, tables) {
    const [row] = await db.query('SELECT to_regclass($1)::text AS q, to_regclass($2)::text AS m', [
        qualified(tables.queue),
        qualified(tables.message)
    ]);
    return !!row?.q && !!row.m;
}
async function queueExists(db, tables, queue) {
    if (!(await brokerTablesExist(db, tables)))
        return false;
    return (await db.query(`SELECT 1 FROM ${qualified(tables.queue)} WHERE name = $1`, [queue])).length > 0;
}
/**
 * In one transaction: a queue row for each of `queues` that lacks one, then the messages.
 * Returns the messages by id (what the run leaves in the broker table, removed afterwards).
 */
async function publish(db, tables, queues, messages) {
    const q = qualified(tables.queue);
    const m = qualified(tables.message);
    await db.query('BEGIN');
    try {
        const names = [...new Set([...queues, ...messages.map((x) => x.queue)])];
        // Runs sharing a database create the app's queue rows concurrently: ON CONFLICT makes the
        // second wait for the first and do nothing. It needs the UNIQUE(name) kombu creates; where a
        // migration left it out, NOT EXISTS is the best available.
        await db.query('SAVEPOINT queues');
        try {
            await db.query(`INSERT INTO ${q} (id, name) SELECT nextval('queue_id_sequence'), n FROM unnest($1::text[]) AS n
         WHERE NOT EXISTS (SELECT 1 FROM ${q} WHERE name = n) ON CONFLICT (name) DO NOTHING`, [names]);
        }
        catch (err) {
            if (err.code !== '42P10')
                throw err;
            await db.query('ROLLBACK TO SAVEPOINT queues');
            await db.query(`INSERT INTO ${q} (id, name) SELECT nextval('queue_id_sequence'), n FROM unnest($1::text[]) AS n
         WHERE NOT EXISTS (SELECT 1 FROM ${q} WHERE name = n)`, [names]);
        }
        const ids = [];
        for (const msg of messages) {
            // No column has a database default; `visible` must be true (NULL is never consumed) and
            // `timestamp` NULL (a non-NULL one would jump the queue), as kombu itself writes them.
            const rows = await db.query(`INSERT INTO ${m} (id, visible, "timestamp", payload, version, queue_id)
         SELECT nextval('message_id_sequence'), true, NULL, $2::text, 1, id FROM ${q} WHERE name = $1::text
         RETURNING id`, [msg.queue, msg.payload]);
            ids.push(...rows.map((r) => ({ queue: msg.queue, id: Number(r.id) })));
        }
        await db.query('COMMIT');
        return ids;
    }
    catch (err) {
        await db.query('ROLLBACK').catch(() => { });
        throw err;
    }
}
/**
 * Undoes publish: deletes the run's message rows, queue row (unless `keepQueue`: a kept worker
 * still polls it), result rows and the probe's dead-letter row — a bounded, known trace, never
 * another message of the app's queues. The detail may quote the database's errors: the caller
 * redacts it.
 */
async function removeTrace(db, trace, opts = {}) {
    const t = trace.tables;
    const steps = [
        // The run's own queue (with any copy a warm shutdown restored), and by id the pings it left
        // in the app's queues — never another message of those queues.
        [
            'messages',
            `DELETE FROM ${qualified(t.message)} WHERE queue_id IN (SELECT id FROM ${qualified(t.queue)} WHERE name = $1) OR id = ANY($2::int[])`,
            [trace.queue, trace.messageIds]
        ],
        ...(opts.keepQueue ? [] : [['queue row', `DELETE FROM ${qualified(t.queue)} WHERE name = $1`, [trace.queue]]]),
        ['result rows', `DELETE FROM ${qualified(t.task, t.task_schema)} WHERE task_id = ANY($1::text[])`, [trace.taskIds]]
    ];
    const dlq = trace.deadLetter;
    if (dlq)
        steps.push(['dead-letter row', `DELETE FROM ${dlq.table} t WHERE strpos(to_jsonb(t)::text, $1) > 0`, [dlq.taskId]]);
    // 42P01: the table never came to exist, so there is nothing to remove. A dead-letter table the
    // worker's role may only append to is least privilege working: say which row stays and how to
    // find it, so nobody mistakes it for a real failure.
    const { removed, left } = await runCleanupSteps(db, steps, {
        absent: ['42P01'],
        denied: () => `${db.role} may not delete`,
        ...(dlq ? { deadLetterTaskId: dlq.taskId } : {})
    });
    if (!left.length) {
        // Said as it happened: a kept worker still polls the run's queue, and a probe leaves a dead letter.
        const dead = removed.includes('dead-letter row') ? ", the probe task's dead-letter row" : '';
        const detail = opts.keepQueue
            ? `removed the run's ping message${dead} and result row; queue row ${trace.queue} stays while the kept worker consumes it`
            : `removed the run's ping message, queue row ${trace.queue}${dead} and result row`;
        return { removed: true, detail };
    }
    const done = removed.length ? `removed ${removed.join(', ')}; ` : '';
    return { removed: false, detail: `${done}left in the database: ${left.join(', ')}` };
}
/** kombu's own name for this transport's denied objects: its tables, sequences, and schema public. */
function ownsObject(object, probe) {
    const t = probe.tables;
    const name = object.split('.').pop() ?? object;
    return [t.queue, t.message, t.task, t.group, 'queue_id_sequence', 'message_id_sequence', 'task_id_sequence', 'taskset_id_sequence', 'public'].includes(name);
}
const sqlaPlane = {
    kind: 'sqla',
    label: "kombu's SQLAlchemy transport",
    recognises: (parts) => (parts.prefix === 'sqla' || parts.prefix === 'sqlalchemy') && isPostgresScheme(parts.scheme),
    // Its driver and engine options are checked for every plane (celery/drift.ts).
    probeProblems: () => [],
    // SQLAlchemy's libpq defaults are the action's too (node-postgres reads the same PG* variables).
    resolve: (parts) => ({ parts, notes: [] }),
    queueName: (_probe, queue) => queue,
    ready: (db, probe) => brokerTablesExist(db, probe.tables),
    queueExists: (db, probe, queue) => queueExists(db, probe.tables, queue),
    publish: (db, probe, queues, messages) => publish(db, probe.tables, queues, messages),
    removeTrace: (db, trace, opts) => removeTrace(db, {
        tables: trace.probe.tables,
        queue: trace.queue,
        messageIds: trace.sent.map((m) => m.id),
        taskIds: trace.taskIds,
        ...(trace.deadLetter ? { deadLetter: trace.deadLetter } : {})
    }, opts),
    // Nothing to ask the database: the tables are kombu's, versioned with kombu.
    evidence: async () => ({ lines: [], problems: [] }),
    ownsObject,
    lockedTables: (probe) => [qualified(probe.tables.message), qualified(probe.tables.queue)]
};

const PLANES = [sqlaPlane, pgmqPlane];
/** The plane whose URL this broker URL is, if any. */
function planeFor(parts) {
    return PLANES.find((p) => p.recognises(parts));
}
function planeOf(kind) {
    const plane = PLANES.find((p) => p.kind === kind);
    if (!plane)
        throw new Error(`no data plane of kind ${kind}`);
    return plane;
}

const gateOutcome = (status, evidence, details) => details === undefined ? { status, evidence } : { status, evidence, details };
/**
 * Opens the connection a gate's SQL checks use (the action's own, unless `open` says otherwise).
 * A refusal becomes the gate's outcome: `skip` when `runtime` already showed that the database
 * refuses this DSN (one cause, reported once), `fail` naming what could not be checked otherwise.
 */
async function connectForChecks(facts, toCheck, open = () => facts.database()) {
    try {
        return { db: await open() };
    }
    catch (err) {
        const blocked = await facts.sqlChecksBlocked();
        if (blocked)
            return { outcome: gateOutcome('skip', blocked) };
        return { outcome: gateOutcome('fail', `cannot connect ${toCheck}: ${facts.redact(describeDbError(err).message)}`) };
    }
}

const brokerConfigGate = {
    id: 'broker-config',
    title: 'Broker Config',
    description: 'Broker and result backend the app configures are PostgreSQL DSNs (no Redis/RabbitMQ)',
    foundation: true,
    needs: ['import'],
    async run({ facts }) {
        const check = await facts.dataPlane();
        if (!check)
            return gateOutcome('fail', 'the app did not import');
        if (!check.ok)
            return gateOutcome('fail', [...check.problems, `transport: \`${check.brokerShown}\``, `results: \`${check.backendShown}\``].join('\n'));
        const { broker, backend } = check.plane;
        const lines = [`transport: \`${broker.redacted}\``, `results: \`${backend.redacted}\``];
        // What the data plane says of itself (PGMQ: its version, asked as the worker's role); the
        // sqla plane asks nothing, so this gate opens no connection there.
        const probe = await facts.probe();
        let db;
        const open = async () => (db = await connect(broker.parts, { connectTimeoutMs: 5000 }));
        const names = { nodeName: facts.ids.nodeName, queue: facts.ids.queue };
        const plane = probe.ok ? await planeOf(check.plane.kind).evidence(open, probe.probe, names) : { lines: [], problems: [] };
        await db?.close().catch(() => { });
        lines.push(...plane.lines.map((l) => facts.redact(l)));
        if (plane.problems.length)
            return gateOutcome('fail', [...plane.problems.map((p) => facts.redact(p)), ...lines].join('\n'));
        // Cross-check with what the worker itself prints at boot (password shown as ** there).
        const banner = await facts.banner();
        const mismatches = [compareBanner('transport', banner.transport, broker.parts), compareBanner('results', banner.results, backend.parts)].filter((m) => !!m);
        if (mismatches.length)
            return gateOutcome('fail', [...mismatches, ...lines].join('\n'));
        lines.push(banner.transport && banner.results ? "the worker's banner shows the same transport and results" : 'not cross-checked: the worker printed no banner');
        return gateOutcome('pass', [...lines, ...check.notes].join('\n'));
    }
};
function compareBanner(what, shown, configured) {
    if (!shown)
        return undefined;
    const printed = parseDsn(shown);
    if (!printed)
        return `the worker's banner shows ${what}: ${shown}, which is not a PostgreSQL URL`;
    const same = dsnTarget(printed) === dsnTarget(configured) && (printed.username ?? '') === (configured.username ?? '');
    return same
        ? undefined
        : `the worker's banner shows ${what} at ${printed.username ?? ''}@${dsnTarget(printed)}, but the app configures ${configured.username ?? ''}@${dsnTarget(configured)}`;
}

const ciGate = {
    id: 'ci',
    title: 'CI',
    description: 'This step fails the job when a foundation gate fails, so a required check blocks the merge; failing tests are told apart',
    foundation: false,
    needs: [],
    judgesRun: true,
    async run({ settings, facts, earlier }) {
        const event = process.env.GITHUB_EVENT_NAME;
        const where = process.env.GITHUB_ACTIONS === 'true' ? `on ${event ?? 'an unknown event'}` : 'outside GitHub Actions';
        const mode = settings.failOn === 'never'
            ? `fail-on: never: this step only reports and never fails, so it cannot block a merge (${where})`
            : settings.failOn === 'any'
                ? `fail-on: any: this step fails when a foundation gate fails or a test fails (${where})`
                : `fail-on: foundation: this step fails when a foundation gate fails (${where})`;
        // The session read and classified the reports before this gate, whatever `gates` lists (this
        // is the same, memoised analysis): the gate only judges what it found.
        const tests = await facts.tests(earlier);
        const foundationRed = earlier.some((g) => g.foundation && g.status === 'fail');
        const lines = [mode];
        if (tests) {
            lines.unshift(tests.verdict);
            const unread = tests.files.filter((f) => f.status !== 'ok').length + tests.unmatched.length;
            if (unread)
                lines.push(`${unread} test report${unread > 1 ? 's' : ''} could not be read (see the taxonomy section)`);
        }
        if (settings.failOn === 'never')
            return gateOutcome('warn', lines.join('\n'));
        // The seed's "MIXED": the foundation is proven, and the suite is red anyway.
        return gateOutcome(tests && !foundationRed && tests.failed > 0 ? 'warn' : 'pass', lines.join('\n'));
    }
};

// Whether a `tenant-tables` entry can name a table at all, judged before the database is asked.
// PostgreSQL's to_regclass() raises on a malformed name (`a.b.c.d`: "improper relation name"),
// and one raise in the statement that looks up every entry used to fail both rls-role and
// tenant-isolation with a database error. A malformed entry is instead a finding about that entry;
// a well-formed name that is absent stays a fact about the database (rls-role: does not exist).
//
// The rules are PostgreSQL's own for a dotted name (SplitIdentifierString in varlena.c, which
// to_regclass uses): parts separated by dots, whitespace allowed around them, a part either
// double-quoted (`""` for a quote inside, never empty) or unquoted (any characters up to a dot or
// whitespace; PostgreSQL folds it to lower case). Stricter in one way: at most two parts, table or
// schema.table — PostgreSQL also takes database.schema.table, but only for the current database.
/** What the finding says a tenant table entry should look like. */
const TABLE_NAME_EXPECTED = 'expected table or schema.table, quoted if needed';
/** Why `entry` cannot name a table, or undefined when it can. */
function tableNameProblem(entry) {
    const parts = [];
    let i = skipSpace(entry, 0);
    if (i === entry.length)
        return 'it is empty';
    for (;;) {
        if (entry[i] === '"') {
            let name = '';
            let j = i + 1;
            for (;;) {
                const close = entry.indexOf('"', j);
                if (close < 0)
                    return 'it has an unclosed double quote';
                name += entry.slice(j, close);
                if (entry[close + 1] !== '"') {
                    j = close + 1;
                    break;
                }
                name += '"';
                j = close + 2;
            }
            if (!name)
                return 'it has an empty quoted name ("")';
            parts.push(name);
            i = j;
        }
        else {
            const start = i;
            while (i < entry.length && entry[i] !== '.' && !isSpace(entry[i]))
                i++;
            if (i === start)
                return 'it has an empty part (two dots, or a dot at an end)';
            parts.push(entry.slice(start, i));
        }
        i = skipSpace(entry, i);
        if (i === entry.length)
            break;
        if (entry[i] !== '.')
            return `it has ${quoteGiven(entry.slice(i, i + 20))} after a name (a space inside a name needs double quotes)`;
        i = skipSpace(entry, i + 1);
        if (i === entry.length)
            return 'it has an empty part (two dots, or a dot at an end)';
    }
    if (parts.length > 2)
        return `it has ${parts.length} dotted parts`;
    return undefined;
}
/** The finding about a malformed entry, as rls-role and tenant-isolation report it. */
function malformedEntryFinding(entry, problem) {
    return `entry ${shown(entry)} is not a table name: ${problem} (${TABLE_NAME_EXPECTED}); skipped`;
}
/** An entry as written, in a code span unless it holds a backtick (then as a JSON string). */
function shown(entry) {
    return /[`\u0000-\u001f]/.test(entry) || entry.length > 80 ? quoteGiven(entry) : `\`${entry}\``;
}
// PostgreSQL's scanner_isspace: space, tab, newline, carriage return, form feed.
function isSpace(ch) {
    return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f';
}
function skipSpace(text, i) {
    while (i < text.length && isSpace(text[i]))
        i++;
    return i;
}

async function existingRoles(db, roles) {
    const rows = await db.query('SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])', [roles]);
    return new Set(rows.map((r) => r.rolname));
}
async function checkPrivileges(db, needs) {
    if (!needs.length)
        return [];
    const rows = await db.query(`SELECT c.i, to_regclass(c.obj) IS NOT NULL AS exists,
            CASE WHEN to_regclass(c.obj) IS NULL THEN NULL
                 WHEN c.kind = 'table' THEN has_table_privilege(c.role, to_regclass(c.obj), c.priv)
                      OR (c.alt <> '' AND has_table_privilege(c.role, to_regclass(c.obj), c.alt))
                 ELSE has_sequence_privilege(c.role, to_regclass(c.obj), c.priv)
                      OR (c.alt <> '' AND has_sequence_privilege(c.role, to_regclass(c.obj), c.alt))
            END AS granted
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY
            AS c(kind, obj, role, priv, alt, i)`, [needs.map((n) => n.kind), needs.map((n) => n.regclass), needs.map((n) => n.role), needs.map((n) => n.privilege), needs.map((n) => n.orPrivilege ?? '')]);
    return rows.map((r) => {
        const need = needs[Number(r.i) - 1];
        return { ...need, exists: r.exists, granted: r.granted === true };
    });
}
async function roleInfo(db, roles) {
    const rows = await db.query(`SELECT r.rolname::text AS rolname, r.rolsuper, r.rolbypassrls, r.rolcanlogin, r.oid = 10 AS bootstrap,
            -- A superuser is a member of every role; only ask for the others.
            ARRAY(SELECT p.rolname::text FROM pg_roles p
                   WHERE p.oid <> r.oid AND (p.rolsuper OR p.rolbypassrls) AND NOT r.rolsuper
                     AND pg_has_role(r.oid, p.oid, 'MEMBER')
                   ORDER BY 1) AS escalations
       FROM pg_roles r WHERE r.rolname = ANY($1::text[])`, [roles]);
    return rows.map((r) => ({
        name: r.rolname,
        superuser: r.rolsuper,
        bypassRls: r.rolbypassrls,
        canLogin: r.rolcanlogin,
        bootstrap: r.bootstrap,
        privilegedMemberships: r.escalations ?? []
    }));
}
/**
 * Which of `tables` (names to_regclass accepts: quoted or as format('%I.%I') prints them) each of
 * `roles` owns or may act as the owner of. An owner may ALTER TABLE … NO FORCE / DISABLE ROW LEVEL
 * SECURITY, DROP or change the table whenever it likes, and so may every member of the owner role
 * (pg_has_role … 'MEMBER': directly or through other roles, whether or not it inherits — a member
 * can SET ROLE). A superuser is a member of every role; it is reported as SUPERUSER instead.
 * Missing tables are left out (to_regclass gives NULL).
 */
async function ownedTables(db, roles, tables) {
    if (!roles.length || !tables.length)
        return [];
    const rows = await db.query(`SELECT r.rolname::text AS role, format('%I.%I', n.nspname, c.relname) AS qualified_name,
            n.nspname::text AS schema_name, c.relname::text AS rel_name,
            pg_get_userbyid(c.relowner) AS owner, c.relowner = r.oid AS direct
       FROM (SELECT DISTINCT to_regclass(t.name) AS oid FROM unnest($2::text[]) AS t(name)) t
       JOIN pg_class c ON c.oid = t.oid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_roles r ON r.rolname = ANY($1::text[]) AND NOT r.rolsuper
      WHERE pg_has_role(r.oid, c.relowner, 'MEMBER')
      ORDER BY 1, 2`, [roles, tables]);
    return rows.map((r) => ({ role: r.role, table: r.qualified_name, sqlName: qualified(r.rel_name, r.schema_name), owner: r.owner, direct: r.direct }));
}
/**
 * Sessions attributed to the worker: by its application_name, or by the TCP ports its processes
 * hold. A session still authenticating (state `starting`, no role yet: a pool child connecting at
 * that moment) is left out — it has no role to judge; seen in CI as a role "?" among 8 runs at once.
 */
async function workerSessions(db, applicationName, clientPorts) {
    return db.query(`SELECT pid, usename, application_name, client_port, backend_type
       FROM pg_stat_activity
      WHERE pid <> pg_backend_pid()
        AND usename IS NOT NULL
        AND (application_name = $1 OR client_port = ANY($2::int[]))
      ORDER BY backend_start`, [applicationName, clientPorts]);
}
const SYSTEM_SCHEMA_FILTER = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;
const TABLE_FACTS = `
  c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
  pg_get_userbyid(c.relowner) AS owner,
  (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)::int AS policies,
  -- format() refuses NULL identifiers, and a named table that does not exist joins as NULLs.
  CASE WHEN c.oid IS NULL THEN NULL ELSE format('%I.%I', n.nspname, c.relname) END AS qualified_name,
  n.nspname::text AS schema_name, c.relname::text AS rel_name`;
/** Tables with a `tenant_id` column outside system schemas (the default tenant table set). */
async function discoverTenantTables(db) {
    const rows = await db.query(`SELECT ${TABLE_FACTS}
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND ${SYSTEM_SCHEMA_FILTER}
        AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND a.attnum > 0 AND NOT a.attisdropped)
      ORDER BY qualified_name`);
    return rows.map((r) => ({
        name: r.qualified_name,
        qualifiedName: r.qualified_name,
        sqlName: qualified(r.rel_name, r.schema_name),
        exists: true,
        rlsEnabled: r.rls_enabled,
        rlsForced: r.rls_forced,
        owner: r.owner,
        policies: r.policies
    }));
}
/**
 * The named tables, in the order given. Names are looked up by PostgreSQL itself (to_regclass),
 * quotes and schema included; an entry that cannot be a name is not sent (it would make the
 * lookup raise for every entry) but returned with `malformed` saying why.
 */
async function namedTenantTables(db, names) {
    const problems = names.map((n) => tableNameProblem(n));
    const wellFormed = names.filter((_, i) => problems[i] === undefined);
    const found = new Map();
    for (const t of await lookUpNamed(db, wellFormed))
        found.set(t.name, t);
    return names.map((name, i) => {
        const malformed = problems[i];
        if (malformed !== undefined)
            return { name, malformed, exists: false, rlsEnabled: false, rlsForced: false, policies: 0 };
        return found.get(name) ?? { name, exists: false, rlsEnabled: false, rlsForced: false, policies: 0 };
    });
}
async function lookUpNamed(db, names) {
    if (!names.length)
        return [];
    try {
        return await lookUpBatch(db, names);
    }
    catch {
        // A name the check above let through and PostgreSQL still refuses: look the names up one by
        // one, so only that entry is lost, with PostgreSQL's reason.
        const out = [];
        for (const name of names) {
            try {
                out.push(...(await lookUpBatch(db, [name])));
            }
            catch (err) {
                out.push({
                    name,
                    malformed: err.message.split('\n')[0] ?? 'PostgreSQL refused it',
                    exists: false,
                    rlsEnabled: false,
                    rlsForced: false,
                    policies: 0
                });
            }
        }
        return out;
    }
}
async function lookUpBatch(db, names) {
    const rows = await db.query(`SELECT t.i, ${TABLE_FACTS}
       FROM unnest($1::text[]) WITH ORDINALITY AS t(name, i)
       LEFT JOIN pg_class c ON c.oid = to_regclass(t.name)
       LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
      ORDER BY t.i`, [names]);
    return rows.map((r) => ({
        name: names[Number(r.i) - 1],
        qualifiedName: r.qualified_name ?? undefined,
        sqlName: r.rel_name !== null && r.schema_name !== null ? qualified(r.rel_name, r.schema_name) : undefined,
        exists: r.qualified_name !== null,
        rlsEnabled: r.rls_enabled === true,
        rlsForced: r.rls_forced === true,
        owner: r.owner ?? undefined,
        policies: r.policies ?? 0
    }));
}
/**
 * Whether row security applies to `role` on each table. PostgreSQL's row_security_active() only
 * answers for the current user, so for another role it is computed from the same rules:
 * RLS enabled, the role neither superuser nor BYPASSRLS, and the role not the owner unless FORCE.
 */
function rowSecurityActiveFor(table, role) {
    if (!table.rlsEnabled || role.superuser || role.bypassRls)
        return false;
    return table.rlsForced || table.owner !== role.name;
}
async function rowSecurityActiveAsCurrentUser(db, qualifiedNames) {
    const rows = await db.query(`SELECT t.name, row_security_active(to_regclass(t.name)) AS active FROM unnest($1::text[]) AS t(name)`, [qualifiedNames]);
    return new Map(rows.map((r) => [r.name, r.active]));
}
/**
 * A table name as the user wrote it (maybe schema-qualified, maybe quoted), resolved by PostgreSQL
 * and returned as the quoted name it prints for that table — safe to use in SQL text. Undefined
 * when no such table exists.
 */
async function resolveTable(db, name) {
    const [row] = await db.query('SELECT to_regclass($1)::text AS t', [name]);
    return row?.t ?? undefined;
}
/** A table PostgreSQL resolved (a regclass as text), with every part quoted, for suggested SQL. */
async function fullyQuotedTable(db, regclass) {
    const [row] = await db.query('SELECT n.nspname::text AS schema, c.relname::text AS rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::regclass', [regclass]);
    return row ? qualified(row.rel, row.schema) : regclass;
}

// The privileges a Celery worker's role needs on kombu's sqla broker tables and Celery's result
// tables: ONE list, read by the db-access gate (what it checks), the `sql` command (the grants it
// prints) and scripts/write-privileges-table.ts (README's table, between its markers). The list
// is the minimal set verified against a real worker (shared/docs/celery-on-postgres.md §1.3);
// DELETE is listed apart, as optional: the worker never deletes, `celery purge` and this tool's
// clean-up of its own probe rows do.
/** The parts whose privileges the broker URL's role needs (the others: the result backend's role). */
const BROKER_PARTS = ['queue', 'message'];
const PRIVILEGE_RULES = [
    { part: 'queue', kind: 'table', privilege: 'SELECT', why: 'the worker looks up its queues' },
    { part: 'queue', kind: 'table', privilege: 'INSERT', why: 'the worker declares new queues' },
    { part: 'message', kind: 'table', privilege: 'SELECT', why: 'the worker polls for messages' },
    { part: 'message', kind: 'table', privilege: 'INSERT', why: 'tasks are published' },
    { part: 'message', kind: 'table', privilege: 'UPDATE', why: 'the worker takes messages (SELECT … FOR UPDATE, visible=false)' },
    { part: 'queue', kind: 'sequence', privilege: 'USAGE', orPrivilege: 'UPDATE', why: 'new queue rows take their id from it' },
    { part: 'message', kind: 'sequence', privilege: 'USAGE', orPrivilege: 'UPDATE', why: 'new messages take their id from it' },
    { part: 'task', kind: 'table', privilege: 'SELECT', why: 'results are read back' },
    { part: 'task', kind: 'table', privilege: 'INSERT', why: 'the worker stores results' },
    { part: 'task', kind: 'table', privilege: 'UPDATE', why: 'the worker stores the final state' },
    { part: 'group', kind: 'table', privilege: 'SELECT', why: 'group results are read back' },
    { part: 'group', kind: 'table', privilege: 'INSERT', why: 'group results are stored' },
    { part: 'task', kind: 'sequence', privilege: 'USAGE', orPrivilege: 'UPDATE', why: 'result rows take their id from it' },
    { part: 'group', kind: 'sequence', privilege: 'USAGE', orPrivilege: 'UPDATE', why: 'group result rows take their id from it' },
    { part: 'queue', kind: 'table', privilege: 'DELETE', why: "`celery purge`, and the clean-up of this tool's probe queue", optional: true },
    { part: 'message', kind: 'table', privilege: 'DELETE', why: "`celery purge`, and the clean-up of this tool's probe messages", optional: true },
    { part: 'task', kind: 'table', privilege: 'DELETE', why: "`result.forget()`, result expiry, and the clean-up of this tool's ping results", optional: true }
];
/**
 * The sequences kombu and Celery name explicitly in their models. Celery's `configure` moves its
 * result tables' sequences into the table's schema; kombu's stay in the default schema.
 */
const DEFAULT_SEQUENCES = {
    queue: 'queue_id_sequence',
    message: 'message_id_sequence',
    task: 'task_id_sequence',
    group: 'taskset_id_sequence'
};
/** The objects from the probe's configured table names (sequences at kombu's and Celery's names). */
function objectsOf(t) {
    return {
        queue: { table: t.queue, sequence: DEFAULT_SEQUENCES.queue },
        message: { table: t.message, sequence: DEFAULT_SEQUENCES.message },
        task: { table: t.task, schema: t.task_schema, sequence: DEFAULT_SEQUENCES.task, sequenceSchema: t.task_schema },
        group: { table: t.group, schema: t.group_schema, sequence: DEFAULT_SEQUENCES.group, sequenceSchema: t.group_schema }
    };
}
const named = (name, schema) => ({ object: schema ? `${schema}.${name}` : name, regclass: qualified(name, schema) });
/** What db-access checks: every rule that is not optional, one privilege per check. */
function privilegeNeeds(objects, roles) {
    return PRIVILEGE_RULES.filter((r) => !r.optional).map((r) => {
        const o = objects[r.part];
        const target = r.kind === 'table' ? named(o.table, o.schema) : named(o.sequence, o.sequenceSchema);
        return {
            kind: r.kind,
            ...target,
            role: BROKER_PARTS.includes(r.part) ? roles.broker : roles.results,
            privilege: r.privilege,
            ...(r.orPrivilege ? { orPrivilege: r.orPrivilege } : {}),
            why: r.why
        };
    });
}
/**
 * GRANT statements for `role` on the given parts (only those present: no result tables for
 * another backend), one per object, the required privileges first and the optional ones apart.
 */
function grantStatements(objects, role, opts) {
    const byObject = new Map();
    for (const r of PRIVILEGE_RULES) {
        const o = objects[r.part];
        if (!o || !!r.optional !== opts.optional)
            continue;
        const target = r.kind === 'table' ? qualified(o.table, o.schema) : `SEQUENCE ${qualified(o.sequence, o.sequenceSchema)}`;
        const list = byObject.get(target) ?? [];
        if (!list.includes(r.privilege))
            list.push(r.privilege);
        byObject.set(target, list);
    }
    return [...byObject].map(([target, privileges]) => `GRANT ${privileges.join(', ')} ON ${target} TO ${quoteIdent(role)};`);
}

// Version drift: what the installed Celery, kombu and SQLAlchemy need (read by drift.py from their
// own code) against what the app configures and the database holds. Pure functions: the gates
// bring the probe and the catalog rows, this file says what is missing and the statement that
// fixes it.
/** Text from the user's interpreter, cut to one short line. */
const cut = (text, max = 240) => {
    const line = text.replace(/\s+/g, ' ').trim();
    return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};
function driverFix(d, versions) {
    const module = d.module ?? d.driver ?? '';
    if (module === 'psycopg')
        return versions.psycopg2
            ? 'install it (pip install "psycopg[binary]"), or keep the installed psycopg2 by writing postgresql+psycopg2:// in the URL'
            : 'install it: pip install "psycopg[binary]" (or write postgresql+psycopg2:// in the URL and install psycopg2-binary)';
    if (module === 'psycopg2')
        return versions.psycopg
            ? 'install it (pip install psycopg2-binary), or use the installed psycopg 3 by writing postgresql+psycopg:// in the URL'
            : 'install it: pip install psycopg2-binary (or write postgresql+psycopg:// in the URL and install "psycopg[binary]")';
    const installed = versions.psycopg ? 'postgresql+psycopg://' : versions.psycopg2 ? 'postgresql+psycopg2://' : undefined;
    return `install ${module || 'its module'} in python${installed ? `, or write ${installed} in the URL (installed)` : ''}`;
}
/** Problems the worker would die of at boot, known before it starts: its driver, its engine options. */
function driftProblems(probe) {
    const drift = probe.drift;
    if (!drift)
        return [];
    const problems = [];
    const sqlalchemy = probe.versions.sqlalchemy ? `SQLAlchemy ${probe.versions.sqlalchemy}` : 'SQLAlchemy';
    for (const [what, d] of [
        ['broker', drift.drivers?.broker],
        ['result backend', drift.drivers?.results]
    ]) {
        if (!d?.error)
            continue;
        if (!d.driver)
            problems.push(`the ${what} URL names a driver ${sqlalchemy} does not know: ${cut(d.error)}; write postgresql+psycopg:// or postgresql+psycopg2:// in the URL`);
        else
            problems.push(`the ${what} URL gets the driver ${d.driver} from ${sqlalchemy}, and its module does not import in python (${cut(d.error)}): ${driverFix(d, probe.versions)}`);
    }
    const rejected = drift.engine_options?.rejected ?? [];
    if (rejected.length) {
        const keys = rejected.map((k) => `'${cut(k, 60)}'`).join(', ');
        problems.push(`broker_transport_options ${keys}: kombu's sqla transport hands these to SQLAlchemy's create_engine(), which rejects them, so the worker would die at boot (TypeError: Invalid argument(s) … sent to create_engine()); ` +
            `remove ${rejected.length > 1 ? 'them' : 'it'} from broker_transport_options (Redis/SQS options; the sqla transport polls every second)`);
    }
    const rejectedByBackend = drift.backend_engine_options?.rejected ?? [];
    if (rejectedByBackend.length) {
        const keys = rejectedByBackend.map((k) => `'${cut(k, 60)}'`).join(', ');
        problems.push(`database_engine_options ${keys}: Celery's result backend hands these to SQLAlchemy's create_engine(), which rejects them, so every result store would fail; remove ${rejectedByBackend.length > 1 ? 'them' : 'it'} from database_engine_options`);
    }
    return problems;
}
/** A type from the user's interpreter, as it may go into a suggested statement. */
const safeType = (type) => (/^[A-Za-z0-9 (),]{1,60}$/.test(type) ? type : '<type>');
/** The model's type in PostgreSQL's own spelling (format_type), so the two compare as text. */
function pgType(modelType) {
    return modelType.toLowerCase().replace(/^varchar\b/, 'character varying');
}
function compareTable(table, schema, model, catalog) {
    const have = new Map(catalog.map((c) => [c.column, c]));
    const out = { missing: [], missingUnused: [], mismatched: [], missingIndexes: [], statements: [] };
    const add = [];
    for (const col of model.columns) {
        const got = have.get(col.name);
        if (!got) {
            (col.used ? out.missing : out.missingUnused).push(col.name);
            add.push(`ADD COLUMN ${quoteIdent(col.name)} ${safeType(col.type)}${col.nullable ? '' : ' NOT NULL'}`);
            continue;
        }
        if (pgType(col.type) !== got.type)
            out.mismatched.push(`${table}.${col.name} is ${cut(got.type, 60)}, the installed model has ${cut(pgType(col.type), 60)}`);
        if (col.nullable && !got.nullable && !col.primary_key)
            out.mismatched.push(`${table}.${col.name} is NOT NULL, the installed model leaves it empty: ALTER TABLE ${qualified(table, schema)} ALTER COLUMN ${quoteIdent(col.name)} DROP NOT NULL`);
    }
    if (add.length)
        out.statements.push(`ALTER TABLE ${qualified(table, schema)} ${add.join(', ')}`);
    return out;
}
/** `ALTER TABLE … ADD COLUMN …` for the named columns of a model (from the worker's own lines). */
function addColumnsStatement(table, schema, model, columns) {
    const parts = columns.map((name) => {
        const col = model?.columns.find((c) => c.name === name);
        return `ADD COLUMN ${quoteIdent(name)} ${col ? safeType(col.type) : '<type>'}`;
    });
    return `ALTER TABLE ${qualified(table, schema)} ${parts.join(', ')}`;
}

// The broker and result tables against the models of the installed kombu and Celery (read by
// drift.py from their own code): a column the installed model maps and the table lacks fails
// every read or write of that table, and a role that does not own the table cannot add it, so
// Celery's own attempt at boot ends in a WARNING. The statement the owner must run is named.
function targets(probe) {
    const t = probe.tables;
    const d = probe.drift;
    const celery = `Celery ${probe.versions.celery ?? ''}`.trim();
    const kombu = `kombu ${probe.versions.kombu ?? ''}`.trim();
    const out = [];
    if (d?.result_tables) {
        out.push({ what: `${celery}'s result model`, table: t.task, schema: t.task_schema, sequenceSchema: t.task_schema, model: d.result_tables.task });
        out.push({ what: `${celery}'s group result model`, table: t.group, schema: t.group_schema, sequenceSchema: t.group_schema, model: d.result_tables.group });
    }
    if (d?.broker_tables?.queue)
        out.push({ what: `${kombu}'s queue model`, table: t.queue, model: d.broker_tables.queue });
    if (d?.broker_tables?.message)
        out.push({ what: `${kombu}'s message model`, table: t.message, model: d.broker_tables.message });
    return out;
}
/**
 * `workerRoles`: the roles the worker connects as; one of them owning a sequence of a table it
 * does not own is a warning (it could ALTER or DROP what every insert needs).
 */
async function schemaDrift(db, probe, workerRoles = []) {
    const out = { problems: [], warnings: [], covered: [] };
    const list = targets(probe);
    if (!list.length)
        return out;
    let compared = 0;
    let columns = 0;
    for (const target of list) {
        const regclass = qualified(target.table, target.schema);
        const [rel] = await db.query('SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = to_regclass($1)', [regclass]);
        if (!rel)
            continue; // absent: the privilege check names it
        const catalog = await db.query(`SELECT attname::text AS "column", format_type(atttypid, atttypmod) AS type, NOT attnotnull AS nullable
         FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped LIMIT 2000`, [regclass]);
        const indexes = new Set((await db.query('SELECT c.relname::text AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass($1) LIMIT 1000', [regclass])).map((r) => r.name));
        compared += 1;
        columns += target.model.columns.length;
        const drift = compareTable(target.table, target.schema, target.model, catalog);
        const owner = rel.owner ? `the owner (${rel.owner})` : "the table's owner";
        const fix = drift.statements.length ? `: ${owner} runs \`${drift.statements.join('; ')}\`` : '';
        if (drift.missing.length)
            out.problems.push(`${target.table} lacks ${drift.missing.map((c) => `\`${c}\``).join(', ')}, which ${target.what} has: every read or write of the table fails (UndefinedColumn)${fix}`);
        else if (drift.missingUnused.length)
            out.warnings.push(`${target.table} lacks ${drift.missingUnused.map((c) => `\`${c}\``).join(', ')} of ${target.what} (unused with this configuration)${fix}`);
        out.warnings.push(...drift.mismatched);
        for (const ix of target.model.indexes)
            if (!indexes.has(ix.name))
                out.warnings.push(`${target.table} has no index ${ix.name} (${target.what}): ${owner} runs \`CREATE INDEX ${quoteIdent(ix.name)} ON ${regclass} (${ix.columns.map(quoteIdent).join(', ')})\``);
        const haveUnique = await uniqueColumnSets(db, regclass);
        for (const cols of target.model.unique ?? [])
            if (!haveUnique.has(setKey(cols)))
                out.warnings.push(`${target.table} has no unique constraint on (${cols.join(', ')}) (${target.what}): concurrent writers can store duplicates; ${owner} runs \`ALTER TABLE ${regclass} ADD UNIQUE (${cols.map(quoteIdent).join(', ')})\``);
        await compareSequences(db, target, owner, rel.owner, workerRoles, out);
    }
    if (compared)
        out.summary = `${compared} tables match the installed packages' models (${columns} columns: names, types, nullability; indexes, unique constraints, sequences)`;
    return out;
}
const setKey = (cols) => JSON.stringify([...cols].sort());
/** The column sets of the table's unique constraints and unique indexes (not the primary key). */
async function uniqueColumnSets(db, regclass) {
    const rows = await db.query(`SELECT array_agg(a.attname::text ORDER BY k.ord) AS columns
       FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = to_regclass($1) AND i.indisunique AND NOT i.indisprimary
      GROUP BY i.indexrelid LIMIT 200`, [regclass]);
    return new Set(rows.map((r) => setKey(r.columns)));
}
/**
 * The model's named sequences (kombu and Celery give their id columns no DEFAULT: SQLAlchemy calls
 * nextval on the sequence by name, so without it every insert fails): present, a sequence, and
 * not owned by a role the worker connects as.
 */
async function compareSequences(db, target, owner, tableOwner, workerRoles, out) {
    for (const col of target.model.columns) {
        if (!col.sequence)
            continue;
        const schema = col.sequence_schema ?? target.sequenceSchema;
        const seq = qualified(col.sequence, schema);
        const [found] = await db.query('SELECT relkind::text AS kind, pg_get_userbyid(relowner)::text AS owner FROM pg_class WHERE oid = to_regclass($1)', [seq]);
        if (!found) {
            out.covered.push(schema ? `${schema}.${col.sequence}` : col.sequence);
            out.problems.push(`sequence ${col.sequence} does not exist: ${target.what} takes ${target.table}.${col.name} from it (nextval, no DEFAULT), so every insert fails; ${owner} runs \`CREATE SEQUENCE IF NOT EXISTS ${seq}\` and grants USAGE on it to the worker's role`);
        }
        else if (found.kind !== 'S')
            out.problems.push(`${seq} is not a sequence (relkind ${found.kind}): ${target.what} takes ${target.table}.${col.name} from a sequence of that name`);
        // A worker that owns the table too made its own tables (rls-role says so): nothing more to add.
        else if (found.owner && workerRoles.includes(found.owner) && found.owner !== tableOwner)
            out.warnings.push(`the worker's role ${found.owner} owns sequence ${col.sequence}: it could ALTER or DROP what every insert into ${target.table} needs; a superuser runs \`ALTER SEQUENCE ${seq} OWNER TO ${tableOwner ? quoteIdent(tableOwner) : '<the migration role>'}\` (the table's owner)`);
    }
}

/**
 * The sqla needs without kombu's broker tables and their sequences when the broker is PGMQ (the
 * result tables stay: Celery's database backend is the same on both).
 */
function withoutSqlaBroker(needs, probe, pgmq) {
    if (!pgmq)
        return needs;
    const broker = new Set([probe.tables.queue, probe.tables.message, 'queue_id_sequence', 'message_id_sequence']);
    return needs.filter((n) => !broker.has(n.object));
}
/** Everything db-access checks on PGMQ for the worker's role (the broker URL's user). */
async function pgmqAccess(db, probe, role, runQueue, nodeName) {
    const options = probe.broker.pgmq ?? undefined;
    const consumed = probe.consumed_queues ?? probe.default_consumed_queues ?? [];
    const boot = await pgmqBootProblems(db, options, role, { consumed, nodeName, perRun: runQueue ? [runQueue] : [] });
    const { problems, lines } = boot;
    if (!boot.install.schema)
        return { ...boot, checks: [] };
    const checks = await checkPgmqNeeds(db, role, PGMQ_NEEDS);
    for (const c of checks.filter((c) => !c.exists))
        problems.push(`${c.object} does not exist in PGMQ's install: kombu ${probe.versions.kombu ?? ''} calls it (${c.why}) — install a PGMQ that has it (1.13.0 is tested)`);
    for (const c of checks.filter((c) => c.exists && !c.granted))
        problems.push(`${role} lacks ${c.privilege} on ${c.kind} ${c.object}: ${c.why}${c.without ? ` (without it ${c.without})` : ''} — ${grantFor(c, role)}`);
    const held = checks.filter((c) => c.granted).length;
    lines.push(`${held} of ${checks.length} PGMQ privileges held by ${role} (one privilege per check)`);
    lines.push(await queueTablesLine(db, role, options?.queue_name_prefix ?? '', consumed, runQueue));
    return { ...boot, checks };
}
async function queueTablesLine(db, role, prefix, consumed, runQueue) {
    const names = consumed.filter((q) => q !== runQueue).map((q) => pgmqQueueName(prefix, q));
    const tables = names.flatMap((n) => Object.values(queueTables(n)));
    const found = await queueTableOwners(db, role, tables);
    const owned = found.filter((o) => o.ownedByRole).length;
    const absent = tables.length - found.length;
    return `queue tables of ${names.join(', ') || 'no queues'}: ${owned} owned by ${role}${absent ? `, ${absent} to be created by it (CREATE on schema pgmq)` : ''}`;
}
function pgmqDetails(checks) {
    return checks.map((c) => `${c.granted ? 'ok     ' : c.exists ? 'MISSING' : 'ABSENT '} ${c.role} ${c.privilege} on ${c.kind} ${c.object}`).join('\n');
}

const dbAccessGate = {
    id: 'db-access',
    title: 'DB Accessibility',
    description: "Broker and result tables and their sequences exist, the worker's role holds each privilege it needs, the ping's result persisted",
    foundation: true,
    needs: ['broker-config'],
    async run({ settings, facts }) {
        const [probeOutcome, check] = [await facts.probe(), await facts.dataPlane()];
        if (!probeOutcome.ok || !check?.ok)
            return gateOutcome('fail', 'no PostgreSQL data plane to check');
        const probe = probeOutcome.probe;
        const shown = settings.databaseUrl ? `database-url (${redactDsn(settings.databaseUrl)})` : `the broker's database (${check.plane.broker.redacted})`;
        const connected = await connectForChecks(facts, `to ${shown}`);
        if ('outcome' in connected)
            return connected.outcome;
        const { db } = connected;
        const [{ db: dbName }] = (await db.query('SELECT current_database() AS db'));
        const expectedDb = check.plane.broker.parts.database;
        if (expectedDb && dbName !== expectedDb)
            return gateOutcome('fail', `database-url points at database ${dbName}, but the broker's tables are in ${expectedDb}: point database-url at the broker's database`);
        // On PGMQ the broker is schema pgmq (db-access-pgmq.ts), the result backend the same tables.
        const pgmq = check.plane.kind === 'pgmq';
        const pgmqRole = check.plane.broker.parts.username || db.role;
        const needs = withoutSqlaBroker(needsOf(probe, check.plane, db.role), probe, pgmq);
        const roles = [...new Set([...needs.map((n) => n.role), ...(pgmq ? [pgmqRole] : [])])];
        const present = await existingRoles(db, roles);
        const missingRoles = roles.filter((r) => !present.has(r));
        if (missingRoles.length)
            return gateOutcome('fail', `role ${missingRoles.join(', ')} does not exist in ${dbName}`);
        const checks = await checkPrivileges(db, needs);
        const onPgmq = pgmq ? await pgmqAccess(db, probe, pgmqRole, facts.ids.queue, facts.ids.nodeName) : undefined;
        const lines = [...(onPgmq?.lines ?? [])];
        const problems = [...(onPgmq?.problems ?? [])];
        const missingObjects = [...new Set(checks.filter((c) => !c.exists).map((c) => c.object))];
        for (const o of missingObjects)
            problems.push(`${o} does not exist`);
        const denied = checks.filter((c) => c.exists && !c.granted);
        for (const c of denied)
            problems.push(`${c.role} lacks ${c.privilege}${c.orPrivilege ? ` (or ${c.orPrivilege})` : ''} on ${c.object}: ${c.why} — GRANT ${c.privilege} ON ${c.kind === 'sequence' ? 'SEQUENCE ' : ''}${c.regclass} TO ${quoteIdent(c.role)}`);
        const objects = new Set(checks.map((c) => c.object)).size;
        const granted = checks.filter((c) => c.granted).length;
        lines.push(`${objects - missingObjects.length} of ${objects} tables and sequences present in ${dbName}`);
        lines.push(`${granted} of ${checks.length} needed privileges held (${roles.join(', ')}; one privilege per check)`);
        // Columns the installed packages' models have and the tables lack come first: they are why
        // the worker fails, where a privilege check alone would pass.
        const drift = await schemaDrift(db, probe, roles);
        // A missing sequence drift names with its fix needs no second "does not exist" line.
        const explained = new Set(drift.covered.map((o) => `${o} does not exist`));
        problems.splice(0, problems.length, ...drift.problems, ...problems.filter((p) => !explained.has(p)));
        if (!drift.problems.length && !drift.warnings.length && drift.summary)
            lines.push(drift.summary);
        const persisted = await resultPersisted(db, probe, facts.ids.taskId, (await facts.ping()).kind === 'pong');
        lines.push(persisted.line);
        if (persisted.problem)
            problems.push(persisted.problem);
        const details = [detailsOf$2(checks), ...(onPgmq ? [pgmqDetails(onPgmq.checks)] : [])].filter(Boolean).join('\n');
        if (problems.length)
            return gateOutcome('fail', [...problems.slice(0, 6), ...(problems.length > 6 ? [`… and ${problems.length - 6} more`] : [])].join('\n'), details);
        if (drift.warnings.length)
            return gateOutcome('warn', [...drift.warnings.slice(0, 6), ...lines].join('\n'), details);
        return gateOutcome('pass', lines.join('\n'), details);
    }
};
/** The privileges list lives in db/privileges.ts (also the `sql` command's grants and README's table). */
function needsOf(probe, plane, fallbackRole) {
    return privilegeNeeds(objectsOf(probe.tables), {
        broker: plane.broker.parts.username || fallbackRole,
        results: plane.backend.parts.username || fallbackRole
    });
}
async function resultPersisted(db, probe, taskId, ponged) {
    if (!ponged)
        return { line: 'result row not checked: the ping was not answered' };
    const rows = await db.query(`SELECT status, date_done FROM ${qualified(probe.tables.task, probe.tables.task_schema)} WHERE task_id = $1`, [taskId]);
    const row = rows[0];
    if (!row)
        return { line: '', problem: `the ping's result row ${taskId} is not visible from a separate session (not committed?)` };
    return { line: `result row of the ping persisted: ${row.status} (read back in a separate session)` };
}
function detailsOf$2(checks) {
    const rows = checks.map((c) => `${c.granted ? 'ok     ' : c.exists ? 'MISSING' : 'ABSENT '} ${c.role} ${c.privilege}${c.orPrivilege ? `|${c.orPrivilege}` : ''} on ${c.kind} ${c.object}`);
    return rows.join('\n');
}

const dlqGate = {
    id: 'dlq',
    title: 'Dead letters',
    description: "Failed tasks land in the dead-letter table: it exists, the worker's role may insert, and a task failing on purpose leaves exactly one row",
    foundation: true,
    needs: ['broker-config'],
    needsFromWorker: ['probe-task'],
    async run({ settings, facts }) {
        const name = settings.dlqTable;
        if (!name)
            return gateOutcome('skip', 'not configured: set dlq-table (and dlq-probe-task) to check the dead-letter table');
        const connected = await connectForChecks(facts, `to check ${name}`);
        if ('outcome' in connected)
            return connected.outcome;
        const { db } = connected;
        const table = await resolveTable(db, name);
        if (!table)
            return gateOutcome('fail', `dlq-table ${name} does not exist in ${(await db.query('SELECT current_database() AS d'))[0]?.d}`);
        const plane = await facts.dataPlane();
        const role = (plane?.ok && plane.plane.broker.parts.username) || db.role;
        const [grant] = await db.query('SELECT has_table_privilege($1, $2::regclass, $3) AS ok', [role, table, 'INSERT']);
        if (!grant?.ok)
            return gateOutcome('fail', `${role} may not INSERT into ${table}, so failed tasks cannot be recorded — GRANT INSERT ON ${await fullyQuotedTable(db, table)} TO ${quoteIdent(role)}`);
        const lines = [`${table} exists and ${role} may INSERT into it`];
        const task = settings.dlqProbeTask;
        if (!task)
            return gateOutcome('pass', [...lines, 'no probe sent (set dlq-probe-task to a task that fails on purpose)'].join('\n'));
        if (!(await facts.pingAnswered()))
            return gateOutcome('warn', [...lines, 'probe not checked: the worker never answered (`runtime` did not pass)'].join('\n'));
        const probe = (await facts.extras()).find((x) => x.purpose === 'probe');
        if (!probe)
            return gateOutcome('fail', [`the probe task ${task} could not be sent`, ...lines].join('\n'));
        if (probe.error)
            return gateOutcome('fail', [`Celery could not build the probe task ${task}: ${probe.error}`, ...lines].join('\n'));
        if (probe.status !== 'FAILURE')
            return gateOutcome('fail', [
                probe.status ? `the probe task ${task} ended ${probe.status}: it must fail on purpose` : `the probe task ${task} did not finish in time`,
                ...lines
            ].join('\n'));
        const rows = await rowsMentioning(db, table, probe.taskId);
        if (rows !== 1)
            return gateOutcome('fail', [`the probe task ${task} failed, and left ${rows} rows in ${table} (task id ${probe.taskId}): expected exactly one`, ...lines].join('\n'));
        return gateOutcome('pass', [...lines, `the probe task ${task} failed and left exactly one row (task id \`${probe.taskId}\`)`].join('\n'));
    }
};
/** Rows of the table whose contents mention the task id (no column names assumed), waited for briefly. */
async function rowsMentioning(db, table, taskId) {
    const count = async () => (await db.query(`SELECT count(*)::int AS n FROM ${table} t WHERE strpos(to_jsonb(t)::text, $1) > 0`, [taskId]))[0]?.n ?? 0;
    const until = performance.now() + DLQ_ROW_GRACE_MS;
    let rows = 0;
    do {
        rows = await count();
        if (rows) {
            // A second row (a handler that writes twice) may follow the first closely: look once more.
            await new Promise((r) => setTimeout(r, 300));
            return count();
        }
        await new Promise((r) => setTimeout(r, 100));
    } while (performance.now() < until);
    return rows;
}

const importGate = {
    id: 'import',
    title: 'Import',
    description: 'The app imports in `python` from `working-directory`, as `celery -A` loads it',
    foundation: true,
    needs: [],
    async run({ settings, facts }) {
        const outcome = await facts.probe();
        if (outcome.ok) {
            const p = outcome.probe;
            const v = p.versions;
            return gateOutcome('pass', `\`${settings.app}\` imported in ${p.seconds.toFixed(2)} s: Python ${v.python}, Celery ${v.celery ?? '?'}, kombu ${v.kombu ?? '?'}` +
                `\n${p.tasks.filter((t) => !t.startsWith('celery.')).length} tasks registered`);
        }
        if (outcome.kind === 'import-error')
            return gateOutcome('fail', `\`${settings.app}\` does not import: ${outcome.error.message}\ncheck that python has the app's dependencies and that working-directory is where the app is importable (traceback in the details)`, outcome.error.traceback);
        return gateOutcome('fail', outcome.message, outcome.details);
    }
};

/** Common spellings of the fields structured loggers write (python-json-logger, structlog, …). */
const ALIASES = {
    level: ['level', 'levelname', 'severity', 'log.level'],
    logger: ['logger', 'name', 'logger_name', 'log.logger'],
    message: ['message', 'msg', 'event'],
    task_name: ['task_name', 'task', 'celery.task_name']
};
/**
 * A log record in Celery's default plain format (`[2026-11-26 01:42:52,784: INFO/MainProcess] …`).
 * Lines that are neither this nor JSON — a print(), a banner — are not log records and not judged.
 */
const PLAIN_RECORD = /^\[\d{4}-\d\d-\d\d[ T][\d:,.]+: \w+\/[\w.-]+\]/;
const logsGate = {
    id: 'logs',
    title: 'Logs',
    description: "The worker's log lines while it handled the ping are structured: JSON with a level, a logger, a message, and the task name on task events",
    foundation: true,
    needs: ['runtime'],
    async run({ settings, facts }) {
        const ping = await facts.ping();
        // Counted from the pong, not from now: by the time this gate runs (after queues and tasks) the
        // window has usually passed, and the step's wall time is not paid twice.
        // pongAtMs is on the worker's clock (ms since it was spawned).
        const now = facts.lines.elapsedMs();
        const settled = 'pongAtMs' in ping && now !== undefined ? ping.pongAtMs + LOG_SETTLE_MS - now : LOG_SETTLE_MS;
        if (settled > 0)
            await new Promise((r) => setTimeout(r, settled));
        const parsed = facts.lines.sinceReady.map((l) => ({ line: l.line, record: asRecord(l.line) })).filter((p) => p.record || PLAIN_RECORD.test(p.line));
        const lines = parsed.map((p) => p.line);
        if (!lines.length)
            return gateOutcome('warn', 'the worker wrote no log record while it handled the ping (is its loglevel above INFO?)');
        const json = parsed.filter((p) => p.record);
        if (!json.length)
            return gateOutcome('warn', `the worker logs plain text, e.g. ${quote$1(lines[0])}\nstructured (JSON) logs carry ${settings.logFields.join(', ')} and the task name as fields — what this gate, and log search, can rely on`);
        const problems = [];
        const plain = parsed.filter((p) => !p.record);
        if (plain.length)
            problems.push(`${plain.length} of ${lines.length} lines are not JSON, e.g. ${quote$1(plain[0]?.line)}`);
        for (const field of settings.logFields) {
            const without = json.filter((p) => !has(p.record, field));
            if (without.length)
                problems.push(`${without.length} of ${json.length} JSON lines have no \`${field}\`, e.g. ${quote$1(without[0]?.line)}`);
        }
        // Task events: the lines about the run's own ping must name the task.
        const taskLines = json.filter((p) => p.line.includes(facts.ids.taskId));
        const unnamed = taskLines.filter((p) => !has(p.record, 'task_name'));
        if (unnamed.length)
            problems.push(`${unnamed.length} of ${taskLines.length} lines about the ping carry no task name (task_name), e.g. ${quote$1(unnamed[0]?.line)}`);
        const summary = `${json.length} log lines while the worker handled the ping, all JSON with ${settings.logFields.join(', ')}; ${taskLines.length} about the ping name its task`;
        return problems.length ? gateOutcome('fail', problems.join('\n')) : gateOutcome('pass', summary);
    }
};
function asRecord(line) {
    const text = line.trim();
    if (!text.startsWith('{'))
        return undefined;
    try {
        const value = JSON.parse(text);
        return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
    }
    catch {
        return undefined;
    }
}
/** Whether a record carries a field (under one of its usual names), non-empty. */
function has(record, field) {
    return (ALIASES[field] ?? [field]).some((name) => {
        const value = name.includes('.') ? name.split('.').reduce((v, k) => v?.[k], record) : record[name];
        return value !== undefined && value !== null && value !== '';
    });
}
function quote$1(line) {
    const t = line.trim();
    return `\`${t.length > 120 ? `${t.slice(0, 119)}…` : t}\``;
}

const queuesGate = {
    id: 'queues',
    title: 'Queues',
    description: 'Every queue the app routes tasks to is consumed by the booted worker: a ping through each comes back',
    foundation: true,
    needs: ['runtime'],
    // The worker consumes the app's queues, and a ping goes through each.
    needsFromWorker: ['app-queues'],
    async run({ facts }) {
        const outcome = await facts.probe();
        if (!outcome.ok)
            return gateOutcome('fail', 'the app did not import');
        const probe = outcome.probe;
        const routes = probe.routes ?? {};
        // The worker's own word (its banner) when it printed one; else the -Q it was started with.
        const bannerQueues = facts.lines.bannerQueues;
        const consumed = new Set(bannerQueues.length ? bannerQueues : (probe.consumed_queues ?? []));
        const ownQueue = facts.ids.queue;
        const appQueues = [...new Set([...(probe.default_consumed_queues ?? []), ...Object.keys(routes)])].filter((q) => q !== ownQueue).sort();
        const extras = new Map((await facts.extras()).filter((x) => x.purpose === 'queue').map((x) => [x.queue, x]));
        const listTasks = (q) => {
            const tasks = routes[q] ?? [];
            return tasks.length ? `${tasks.slice(0, 5).join(', ')}${tasks.length > 5 ? ` and ${tasks.length - 5} more` : ''}` : 'no task';
        };
        const problems = [];
        const fine = [];
        for (const q of appQueues) {
            const ping = extras.get(q);
            if (!consumed.has(q))
                problems.push(`queue \`${q}\` is not consumed by the booted worker (it consumes ${[...consumed].filter((c) => c !== ownQueue).join(', ') || "none of the app's queues"}); routed there: ${listTasks(q)} — add it to task_queues or to the worker's -Q`);
            else if (!answered(ping))
                problems.push(`the ping routed through \`${q}\` did not come back${ping?.error ? `: ${ping.error}` : ' within a few broker polls'} (routed there: ${listTasks(q)})`);
            else
                fine.push(`\`${q}\` (${(routes[q] ?? []).length} task${(routes[q] ?? []).length === 1 ? '' : 's'}${byOther(ping, facts.ids.nodeName)})`);
        }
        for (const [task, error] of Object.entries(probe.route_errors ?? {}))
            problems.push(`routing ${task} raised: ${error}`);
        if (!appQueues.length)
            return gateOutcome('warn', "the app routes no task to any queue but the run's own: nothing to check");
        const summary = `${fine.length} of ${appQueues.length} queues answered a ping: ${fine.join(', ') || 'none'}`;
        return problems.length ? gateOutcome('fail', [...problems, summary].join('\n')) : gateOutcome('pass', summary);
    }
};
function answered(ping) {
    return !!ping && ping.status === 'SUCCESS';
}
function byOther(ping, node) {
    // With result_extended, the result row names the node: another worker on the same database
    // may have taken it, which still proves the queue is consumed.
    return ping?.worker && ping.worker !== node ? `, answered by ${ping.worker}` : '';
}

function getEnumValues(entries) {
    const numericValues = Object.values(entries).filter((v) => typeof v === "number");
    const values = Object.entries(entries)
        .filter(([k, _]) => numericValues.indexOf(+k) === -1)
        .map(([_, v]) => v);
    return values;
}
function joinValues(array, separator = "|") {
    return array.map((val) => stringifyPrimitive(val)).join(separator);
}
function jsonStringifyReplacer(_, value) {
    if (typeof value === "bigint")
        return value.toString();
    return value;
}
// the accessor lives on a shared prototype: an own accessor makes every box a dictionary-mode object (~360 B and a slow load per read against ~100 B and an inlined getter here)
class Cached {
    constructor(getter) {
        this._getter = getter;
        this._value = undefined;
    }
    get value() {
        const getter = this._getter;
        if (getter !== undefined) {
            this._value = getter();
            this._getter = undefined;
        }
        return this._value;
    }
}
function cached(getter) {
    return new Cached(getter);
}
function nullish(input) {
    return input === null || input === undefined;
}
function cleanRegex(source) {
    const start = source.startsWith("^") ? 1 : 0;
    const end = source.endsWith("$") ? source.length - 1 : source.length;
    return source.slice(start, end);
}
function floatSafeRemainder(val, step) {
    const ratio = val / step;
    const roundedRatio = Math.round(ratio);
    // `val` and `step` each round to a double before the division rounds again, so a true decimal multiple's quotient can sit up to 1.5 of these scaled epsilons from the integer. A 1x tolerance therefore rejected 2.03 as a multiple of 0.07; 4x covers the worst case with margin.
    const tolerance = 4 * Number.EPSILON * Math.max(Math.abs(ratio), 1);
    if (Math.abs(ratio - roundedRatio) < tolerance)
        return 0;
    return ratio - roundedRatio;
}
function assignProp(target, prop, value) {
    Object.defineProperty(target, prop, {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
    });
}
/**
 * Whichever object a def's `shape` currently answers from: the one the caller passed until the first read, the frozen copy after it.
 *
 * Its keys and descriptors read without invoking anything, which is what lets a discriminated union check its discriminator, and the cycle walk read a shape, without resolving a getter that references the schema being constructed. A def that answers `shape` from an accessor of its own has none.
 */
function rawShape(def) {
    const desc = Object.getOwnPropertyDescriptor(def, "shape");
    return desc?.get ? desc.get.raw : desc?.value;
}
// where a builder reads its source's keys and descriptors, resolving only a shape a def answers for itself. A shape resolves by object spread, so only its enumerable keys are ever part of it.
function sourceShape(schema) {
    return rawShape(schema._zod.def) ?? schema._zod.def.shape;
}
// a key whose value is not settled yet, self-caching so every read after the first gets the same one
function deferProp(target, key, getter) {
    Object.defineProperty(target, key, {
        get() {
            const value = getter();
            assignProp(this, key, value);
            return value;
        },
        enumerable: true,
        configurable: true,
    });
}
// Writes a settled key. A plain assignment is much cheaper than `defineProperty` and produces the same descriptor, but it runs whatever setter already answers to the key — an accessor this shape deferred, or an inherited one, which `__proto__` has on every object and prototype pollution can add for any name.
function putProp(target, key, value) {
    if (key in target)
        assignProp(target, key, value);
    else
        target[key] = value;
}
/**
 * Copies `keys` of `source`'s shape onto `target`, each value passed through `wrap`.
 *
 * A key the source has resolved is copied through now, so the derived shape states it outright and nothing has to resolve it to learn what it holds. A key the source still defers stays deferred, and reads back through the source's own `shape`, so it resolves once and both shapes get that one schema.
 */
function mirrorShape(target, source, keys, wrap) {
    const raw = sourceShape(source);
    for (const key of keys) {
        const desc = Object.getOwnPropertyDescriptor(raw, key);
        if (!desc.enumerable)
            continue;
        if (desc.get) {
            deferProp(target, key, () => {
                const value = source._zod.def.shape[key];
                return wrap ? wrap(value, key) : value;
            });
        }
        else
            putProp(target, key, wrap ? wrap(desc.value, key) : desc.value);
    }
}
// same, for a plain shape a caller passed rather than a schema's
function mirrorProps(target, source) {
    for (const key of Reflect.ownKeys(source)) {
        const desc = Object.getOwnPropertyDescriptor(source, key);
        if (!desc.enumerable)
            continue;
        if (desc.get)
            deferProp(target, key, () => source[key]);
        else
            putProp(target, key, desc.value);
    }
}
function mergeDefs(...defs) {
    const mergedDescriptors = {};
    for (const def of defs) {
        const descriptors = Object.getOwnPropertyDescriptors(def);
        Object.assign(mergedDescriptors, descriptors);
    }
    return Object.defineProperties({}, mergedDescriptors);
}
function esc(str) {
    return JSON.stringify(str);
}
function slugify(input) {
    return input
        .toLowerCase()
        .trim()
        .replace(/[^\w\s-]/g, "")
        .replace(/[\s_-]+/g, "-")
        .replace(/^-+|-+$/g, "");
}
const captureStackTrace = ("captureStackTrace" in Error ? Error.captureStackTrace : (..._args) => { });
function isObject(data) {
    return typeof data === "object" && data !== null && !Array.isArray(data);
}
const allowsEval = /* @__PURE__*/ cached(() => {
    // Skip the probe under `jitless`: strict CSPs report the caught `new Function` as a `securitypolicyviolation` even though the throw is swallowed.
    if (globalConfig.jitless) {
        return false;
    }
    // @ts-ignore
    if (typeof navigator !== "undefined" && navigator?.userAgent?.includes("Cloudflare")) {
        return false;
    }
    try {
        const F = Function;
        new F("");
        return true;
    }
    catch (_) {
        return false;
    }
});
function isPlainObject(o) {
    if (isObject(o) === false)
        return false;
    // modified constructor
    const ctor = o.constructor;
    if (ctor === undefined)
        return true;
    if (typeof ctor !== "function")
        return true;
    // modified prototype
    const prot = ctor.prototype;
    if (isObject(prot) === false)
        return false;
    // ctor doesn't have static `isPrototypeOf`
    if (Object.prototype.hasOwnProperty.call(prot, "isPrototypeOf") === false) {
        return false;
    }
    return true;
}
function shallowClone(o) {
    if (isPlainObject(o))
        return { ...o };
    if (Array.isArray(o))
        return [...o];
    if (o instanceof Map)
        return new Map(o);
    if (o instanceof Set)
        return new Set(o);
    return o;
}
const propertyKeyTypes = /* @__PURE__*/ new Set(["string", "number", "symbol"]);
function escapeRegex(str) {
    return str.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
// zod-specific utils
function clone(inst, def, params) {
    const cl = new inst._zod.constr(def ?? inst._zod.def);
    if (!def || params?.parent)
        cl._zod.parent = inst;
    return cl;
}
function normalizeParams(_params) {
    const params = _params;
    if (!params)
        return {};
    if (typeof params === "string")
        return { error: () => params };
    if (params?.message !== undefined) {
        if (params?.error !== undefined)
            throw new Error("Cannot specify both `message` and `error` params");
        params.error = params.message;
    }
    delete params.message;
    if (typeof params.error === "string")
        return { ...params, error: () => params.error };
    return params;
}
function stringifyPrimitive(value) {
    if (typeof value === "bigint")
        return value.toString() + "n";
    if (typeof value === "string")
        return `"${value}"`;
    return `${value}`;
}
function optionalKeys(shape) {
    return Object.keys(shape).filter((k) => {
        return shape[k]._zod.optin !== undefined && shape[k]._zod.optout === "optional";
    });
}

const NUMBER_FORMAT_RANGES = /*@__PURE__*/ (() => ({
    safeint: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    int32: [-2147483648, 2147483647],
    uint32: [0, 4294967295],
    float32: [-34028234663852886e22, 3.4028234663852886e38],
    float64: [-Number.MAX_VALUE, Number.MAX_VALUE],
}))();
const BIGINT_FORMAT_RANGES = {
    int64: [/* @__PURE__*/ BigInt("-9223372036854775808"), /* @__PURE__*/ BigInt("9223372036854775807")],
    uint64: [/* @__PURE__*/ BigInt(0), /* @__PURE__*/ BigInt("18446744073709551615")],
};
function pick(schema, mask) {
    const currDef = schema._zod.def;
    const checks = currDef.checks;
    const hasChecks = checks && checks.length > 0;
    if (hasChecks) {
        throw new Error(".pick() cannot be used on object schemas containing refinements");
    }
    const newShape = {};
    mirrorShape(newShape, schema, maskedKeys(schema, mask));
    return clone(schema, mergeDefs(currDef, { shape: newShape, checks: [] }));
}
// the mask keys that select something, checked against the source's shape without resolving it
function maskedKeys(schema, mask) {
    const raw = sourceShape(schema);
    const keys = [];
    // `for...in` skips symbols, so a symbol in the mask would select nothing
    for (const key of Reflect.ownKeys(mask)) {
        if (!Object.getOwnPropertyDescriptor(raw, key)?.enumerable) {
            throw new Error(`Unrecognized key: "${String(key)}"`);
        }
        if (mask[key])
            keys.push(key);
    }
    return keys;
}
function omit(schema, mask) {
    const currDef = schema._zod.def;
    const checks = currDef.checks;
    const hasChecks = checks && checks.length > 0;
    if (hasChecks) {
        throw new Error(".omit() cannot be used on object schemas containing refinements");
    }
    const omitted = new Set(maskedKeys(schema, mask));
    const newShape = {};
    mirrorShape(newShape, schema, Reflect.ownKeys(sourceShape(schema)).filter((key) => !omitted.has(key)));
    return clone(schema, mergeDefs(currDef, { shape: newShape, checks: [] }));
}
function extend(schema, shape) {
    if (!isPlainObject(shape)) {
        throw new Error("Invalid input to extend: expected a plain object");
    }
    const checks = schema._zod.def.checks;
    const hasChecks = checks && checks.length > 0;
    if (hasChecks) {
        // Only throw if new shape overlaps with existing shape. Use getOwnPropertyDescriptor to check key existence without accessing values
        const existingShape = sourceShape(schema);
        for (const key of Reflect.ownKeys(shape)) {
            if (Object.getOwnPropertyDescriptor(existingShape, key) !== undefined) {
                throw new Error("Cannot overwrite keys on object schemas containing refinements. Use `.safeExtend()` instead.");
            }
        }
    }
    return clone(schema, mergeDefs(schema._zod.def, { shape: extended(schema, shape) }));
}
// the source's keys, then the caller's overlaid on top
function extended(schema, shape) {
    const newShape = {};
    mirrorShape(newShape, schema, Reflect.ownKeys(sourceShape(schema)));
    mirrorProps(newShape, shape);
    return newShape;
}
function safeExtend(schema, shape) {
    if (!isPlainObject(shape)) {
        throw new Error("Invalid input to safeExtend: expected a plain object");
    }
    return clone(schema, mergeDefs(schema._zod.def, { shape: extended(schema, shape) }));
}
function merge(a, b) {
    if (!b?._zod?.def) {
        throw new Error("Invalid input to merge: expected an object schema. To merge a plain shape, use `.extend()`.");
    }
    if (a._zod.def.checks?.length) {
        throw new Error(".merge() cannot be used on object schemas containing refinements. Use .safeExtend() instead.");
    }
    const newShape = {};
    mirrorShape(newShape, a, Reflect.ownKeys(sourceShape(a)));
    mirrorShape(newShape, b, Reflect.ownKeys(sourceShape(b)));
    const def = mergeDefs(a._zod.def, {
        shape: newShape,
        get catchall() {
            return b._zod.def.catchall;
        },
        checks: b._zod.def.checks ?? [],
    });
    return clone(a, def);
}
function partial(Class, schema, mask, name = "partial") {
    const currDef = schema._zod.def;
    const checks = currDef.checks;
    const hasChecks = checks && checks.length > 0;
    if (hasChecks) {
        throw new Error(`.${name}() cannot be used on object schemas containing refinements`);
    }
    const selected = mask ? new Set(maskedKeys(schema, mask)) : undefined;
    const newShape = {};
    mirrorShape(newShape, schema, Reflect.ownKeys(sourceShape(schema)), Class &&
        ((value, key) => (selected && !selected.has(key) ? value : new Class({ type: "optional", innerType: value }))));
    return clone(schema, mergeDefs(schema._zod.def, { shape: newShape, checks: [] }));
}
function required(Class, schema, mask) {
    const selected = mask ? new Set(maskedKeys(schema, mask)) : undefined;
    const newShape = {};
    mirrorShape(newShape, schema, Reflect.ownKeys(sourceShape(schema)), (value, key) => 
    // overwrite with non-optional
    selected && !selected.has(key) ? value : new Class({ type: "nonoptional", innerType: value }));
    return clone(schema, mergeDefs(schema._zod.def, { shape: newShape }));
}
// invalid_type | too_big | too_small | invalid_format | not_multiple_of | unrecognized_keys | invalid_union | invalid_key | invalid_element | invalid_value | custom
function aborted(x, startIndex = 0) {
    if (x.aborted === true)
        return true;
    for (let i = startIndex; i < x.issues.length; i++) {
        if (x.issues[i]?.continue !== true) {
            return true;
        }
    }
    return false;
}
// Checks for explicit abort (continue === false), as opposed to implicit abort (continue === undefined). Used to respect `abort: true` in .refine() even for checks that have a `when` function.
function explicitlyAborted(x, startIndex = 0) {
    if (x.aborted === true)
        return true;
    for (let i = startIndex; i < x.issues.length; i++) {
        if (x.issues[i]?.continue === false) {
            return true;
        }
    }
    return false;
}
function prefixIssues(path, issues) {
    return issues.map((iss) => {
        var _a;
        (_a = iss).path ?? (_a.path = []);
        iss.path.unshift(path);
        return iss;
    });
}
function unwrapMessage(message) {
    return typeof message === "string" ? message : message?.message;
}
/* A check holds no link back to the schema it is attached to — the same check instance is shared by every clone of that schema — so the owner is stamped onto the issues a check just raised, at the only point where both are in scope. Runs on the failure path only; `start` is the issue count from before the check ran. */
/** The leading size checks of `defChecks` that set an upper bound, each paired with it. */
function sizeCaps(defChecks) {
    const caps = [];
    for (const ch of defChecks ?? []) {
        const d = ch._zod.def;
        // a later check may rewrite the value
        if (!/_(length|size)$|_equals$/.test(d.check))
            break;
        const max = d.maximum ?? d.length ?? d.size;
        if (max >= 0)
            caps.push([max, ch]);
    }
    return caps;
}
function attachSchema(issues, start, inst) {
    var _a;
    for (let i = start; i < issues.length; i++) {
        (_a = issues[i]).schema ?? (_a.schema = inst);
    }
}
function finalizeIssue(iss, ctx, config) {
    var _a;
    // A schema that raised an issue itself owns it outright, and outranks any stamp an enclosing check left in `attachSchema`. String formats and z.custom() are schema and check at once, so when they act as a check they defer to that stamp instead.
    const traits = iss.inst?._zod?.traits;
    if (traits?.has("$ZodType")) {
        if (traits.has("$ZodCheck"))
            (_a = iss).schema ?? (_a.schema = iss.inst);
        else
            iss.schema = iss.inst;
    }
    // Decreasing specificity, first map to return a message wins. `inst` is whatever raised the issue, so a check's own map outranks the owning schema's.
    const schemaError = iss.schema !== iss.inst ? iss.schema?._zod.def?.error : undefined;
    const message = iss.message
        ? iss.message
        : (unwrapMessage(iss.inst?._zod.def?.error?.(iss)) ??
            unwrapMessage(schemaError?.(iss)) ??
            unwrapMessage(ctx?.error?.(iss)) ??
            unwrapMessage(config.customError?.(iss)) ??
            unwrapMessage(config.localeError?.(iss)) ??
            "Invalid input");
    // an explicit own-key copy beats object rest with excluded keys, which v8 routes through a generic runtime call; Object.keys rather than for-in so an issue pushed with a prototype does not leak inherited keys, and an own __proto__ key is dropped rather than assigned through the setter
    const full = {};
    for (const k of Object.keys(iss)) {
        if (k === "inst" || k === "schema" || k === "continue" || k === "input" || k === "__proto__")
            continue;
        full[k] = iss[k];
    }
    full.path ?? (full.path = []);
    full.message = message;
    if (ctx?.reportInput) {
        full.input = iss.input;
    }
    return full;
}
const highSurrogate = /[\uD800-\uDBFF]/;
// Code points in `str`: a surrogate pair counts once, a lone surrogate as itself. Hand-rolled because the string iterator allocates and runs ~250x slower on this path; the regex probe exits ~50x quicker for a string with no astral characters.
function codePointLength(str) {
    const units = str.length;
    if (!highSurrogate.test(str))
        return units;
    let count = units;
    for (let i = 0; i < units - 1; i++) {
        if ((str.charCodeAt(i) & 0xfc00) === 0xd800 && (str.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
            count--;
            i++;
        }
    }
    return count;
}
function getLengthableOrigin(input) {
    if (Array.isArray(input))
        return "array";
    if (typeof input === "string")
        return "string";
    return "unknown";
}
function parsedType(data) {
    const t = typeof data;
    switch (t) {
        case "number": {
            return Number.isNaN(data) ? "nan" : "number";
        }
        case "object": {
            if (data === null) {
                return "null";
            }
            if (Array.isArray(data)) {
                return "array";
            }
            const obj = data;
            if (obj && Object.getPrototypeOf(obj) !== Object.prototype && "constructor" in obj && obj.constructor) {
                return obj.constructor.name;
            }
        }
    }
    return t;
}
function issue(...args) {
    const [iss, input, inst] = args;
    if (typeof iss === "string") {
        return {
            message: iss,
            code: "custom",
            input,
            inst,
        };
    }
    return { ...iss };
}
//////////    PROTOTYPE INSTALLERS     //////////
//
// Members live on the prototype and materialize per instance on first read, which keeps own-property count under the step where V8 stops using inline slots. Changing anything here means re-measuring runtime, memory and bundle size together — see "The three axes" in AGENTS.md.
/**
 * Installs a trait's members on its prototype. Each value builds that member for the instance on first read; the built value shadows the accessor as an own property, so a detached `const { parse } = schema` keeps working.
 *
 * Call this from a `proto` initializer, which runs once per prototype — never per instance.
 */
function members(proto, table) {
    for (const key in table) {
        const desc = Object.getOwnPropertyDescriptor(table, key);
        // a getter installs as written, so it stays live: `description` reads through to the registry on every access. not enumerable: an object literal's is, and a prototype member never was
        if (desc.get)
            Object.defineProperty(proto, key, { ...desc, enumerable: false });
        // a method materializes bound on first read, which is what keeps a detached member working: `const opt = schema.optional; opt()`
        else
            defineBound(proto, key, desc.value);
    }
}
/** Shadows a prototype member with an own value, so a getter that builds from the instance runs once. */
function own(inst, key, value, enumerable = true) {
    Object.defineProperty(inst, key, { configurable: true, writable: true, enumerable, value });
    return value;
}
/** Like {@link own}, for a member that was never an own data property and has to stay out of `Object.keys`. */
function hide(inst, key, value) {
    return own(inst, key, value, false);
}
/** Adds members a table derives from the instance: each builds on first read and shadows as own data, and assignment shadows the same way, as when these were own properties. */
function derived(computes, table) {
    for (const key in computes) {
        const compute = computes[key];
        // an object literal's accessor is configurable and enumerable, and `members` copies the descriptor as written
        Object.defineProperty(table, key, {
            configurable: true,
            enumerable: true,
            get() {
                return own(this, key, compute(this));
            },
            set(value) {
                own(this, key, value);
            },
        });
    }
    return table;
}
function defineBound(proto, key, fn) {
    Object.defineProperty(proto, key, {
        configurable: true,
        get() {
            // vitest's spyOn calls a prototype getter bare to find the function it wraps, so a nullish receiver answers the raw method
            return this == null ? fn : own(this, key, fn.bind(this));
        },
        set(value) {
            own(this, key, value);
        },
    });
}
/** Returns the prototype to install on, or `undefined` if this group is already installed on it. */
function claim(inst, sentinel) {
    const proto = Object.getPrototypeOf(inst);
    // Runs on every construction, so `in` rather than the costlier `hasOwnProperty.call`. Sentinels are keys the group itself defines.
    return sentinel in proto ? undefined : proto;
}
// The internals whose init chain is installing. A second call for the same one is a derived constructor overriding its base, so it must not construct another schema in between or the override is dropped.
let installing;
// Set while a getter is running, so a value that resolved through a recursion break is not memoized. One shared descriptor shadows the key for the duration, which costs no per-key allocation.
let broke = false;
const breaker = {
    configurable: true,
    get() {
        broke = true;
        return undefined;
    },
};
/**
 * Installs a lazily-derived internal on the `_zod` prototype of `inst`'s
 * constructor, computed from the internals object itself and cached there on
 * first read. One accessor per constructor rather than one per instance.
 */
function defineLazyInternal(inst, key, compute) {
    const proto = Object.getPrototypeOf(inst._zod);
    if (key in proto && installing !== inst._zod) {
        // A repeat construction: everything is installed already. Cleared here so the reference is not held past the first construction of every type.
        installing = undefined;
        return;
    }
    installing = inst._zod;
    Object.defineProperty(proto, key, {
        configurable: true,
        get() {
            // Shadowed before computing so a re-entrant read from a recursive schema resolves to undefined instead of running the getter again.
            Object.defineProperty(this, key, breaker);
            const outer = broke;
            broke = false;
            try {
                const value = compute(this);
                // A result that resolved through a recursion break is recomputed once the graph is complete; everything else memoizes, undefined included.
                if (broke)
                    delete this[key];
                else
                    Object.defineProperty(this, key, { configurable: true, writable: true, value });
                broke = broke || outer;
                return value;
            }
            catch (err) {
                // A compute that threw memoizes nothing, so a later read runs it again and fails the same way. The shadow goes with it, since leaving it installed would answer undefined for every later read.
                delete this[key];
                broke = broke || outer;
                throw err;
            }
        },
        set(value) {
            Object.defineProperty(this, key, { configurable: true, writable: true, value });
        },
    });
}
/**
 * Installs `key` on `inst`'s prototype, computed by `make` on first read and cached there as an own
 * data property. One accessor per constructor rather than one per instance, because an own accessor
 * puts every instance after the first into v8 dictionary mode. The key doubles as the sentinel.
 */
function installLazyProp(inst, key, make, enumerable) {
    const proto = claim(inst, key);
    if (!proto)
        return;
    Object.defineProperty(proto, key, {
        configurable: true,
        get() {
            // Shadowed before computing, so a re-entrant read from a self-referential shape resolves to undefined instead of running the getter again. A data property rather than an accessor: an own accessor is the dictionary-mode transition this exists to avoid.
            const desc = { configurable: true, writable: true, enumerable, value: undefined };
            Object.defineProperty(this, key, desc);
            // a compute that throws leaves the shadow behind, so later reads answer undefined instead of re-throwing; `defineLazy` did the same, and `defineLazyInternal`'s delete-on-catch would cost bytes in every bundle for a case only a throwing user getter reaches
            desc.value = make(this);
            Object.defineProperty(this, key, desc);
            return desc.value;
        },
        set(value) {
            Object.defineProperty(this, key, { configurable: true, writable: true, enumerable, value });
        },
    });
}
/** Marks the thunk `_catch` synthesises for a constant catch value. `Function.length` cannot tell that thunk from a user callback — rest and defaulted parameters both report arity 0 — and a user callback reads `ctx.error`, whose issues only finalize correctly against the caller's per-parse error map. Provenance can say what arity cannot. A plain string key rather than `Symbol.for`, whose call at module scope no bundler can prove pure — the same shape that anchored `urlCanParse` into every build. */
const CONSTANT_CATCH = "~constantCatch";
/** Wraps a constant catch value in a thunk tagged with {@link CONSTANT_CATCH}. */
function constantCatch(value) {
    const fn = () => value;
    fn[CONSTANT_CATCH] = true;
    return fn;
}

var _a$1;
/** A special constant with type `never` */
const NEVER = /*@__PURE__*/ Object.freeze({
    status: "aborted",
});
/* Shared descriptor for installing `_zod`; defineProperty reads it
 * synchronously, so reusing one object avoids a per-instance allocation. */
const _zodDesc = { value: undefined, enumerable: false };
// null where suppressing the capture would be unrecoverable: `parse()` puts the frames back with `captureStackTrace`, so without it the throw would lose its stack. also latched to null once `stackTraceLimit` proves unassignable, which a realm can do at any point by hardening Error
let _E = "captureStackTrace" in Error ? Error : null;
// v8 captures a stack trace inside the Error constructor, which dominates a failed parse; costs only the frames, and parse() restores those. the constructor must RUN: Object.create is cheaper and passes instanceof, but Error.isError and util.types.isNativeError check an internal slot
function newError(Definition) {
    const E = _E;
    if (E) {
        const saved = E.stackTraceLimit;
        if (typeof saved === "number") {
            try {
                E.stackTraceLimit = 0;
            }
            catch {
                _E = null;
                return new Definition();
            }
            try {
                return new Definition();
            }
            finally {
                E.stackTraceLimit = saved;
            }
        }
    }
    return new Definition();
}
function $constructor(name, initializer, 
/** This trait's members, installed once on every prototype that composes it. They cannot be declared in the initializer above: that runs per instance, and the prototype is shared. */
proto, params) {
    // Prototype for this constructor's `_zod` internals. Lazily-derived fields (`values`, `pattern`, `optin`, …) install here once rather than as an accessor on every instance.
    const zodProto = {};
    // Assigning the fields in the constructor body is what gives instances in-object slots; building the object literally and reparenting it costs a second allocation and a generic property copy.
    function Internals(def) {
        this.def = def;
        this.constr = _;
        this.traits = new Set();
    }
    Internals.prototype = zodProto;
    const protoMembers = proto;
    // One trait's members land on every prototype whose chain composes it, so the answer is per prototype rather than per trait.
    const initialized = protoMembers && new WeakSet();
    function init(inst, def) {
        if (!inst._zod) {
            _zodDesc.value = new Internals(def);
            try {
                Object.defineProperty(inst, "_zod", _zodDesc);
            }
            finally {
                // Cleared even on throw, so the shared descriptor never leaks one instance's internals into the next.
                _zodDesc.value = undefined;
            }
        }
        else if (inst._zod.traits.has(name)) {
            return;
        }
        inst._zod.traits.add(name);
        initializer(inst, def);
        if (initialized) {
            // `super(def)` from a user subclass gives `this` a prototype the subclass owns, and installing there would overwrite whatever the subclass declared. `constr` built the instance, so its prototype is the one below the subclass's that should carry the members. A receiver whose chain never reaches that prototype installs on its own, which for a plain object handed straight to `init` means `Object.prototype` — unchanged from before.
            const own = Object.getPrototypeOf(inst);
            const ctorProto = inst._zod.constr.prototype;
            let up = own;
            while (up && up !== ctorProto)
                up = Object.getPrototypeOf(up);
            const target = up ?? own;
            if (!initialized.has(target)) {
                initialized.add(target);
                members(target, protoMembers);
            }
        }
        // support prototype modifications; for-in avoids the array allocation of Object.keys on the (usually empty) prototype
        const proto = _.prototype;
        for (const k in proto) {
            if (!Object.prototype.hasOwnProperty.call(proto, k))
                continue;
            if (!(k in inst)) {
                inst[k] = proto[k].bind(inst);
            }
        }
    }
    // doesn't work if Parent has a constructor with arguments
    const Parent = params?.Parent ?? Object;
    class Definition extends Parent {
    }
    Object.defineProperty(Definition, "name", { value: name });
    function _(def) {
        const inst = params?.Parent ? newError(Definition) : this;
        init(inst, def);
        const deferred = inst._zod.deferred;
        if (deferred) {
            for (const fn of deferred) {
                fn();
            }
            // Released: initializers run once, and the list would otherwise be retained for the schema's lifetime.
            inst._zod.deferred = undefined;
        }
        // Global post-processor hook. Internal: installed by `import "zod/compile"` to enable AOT compilation for every constructed schema. Runs last, once the instance is fully built, because it hands the instance to compile(). The post-processor is expected to be reentrancy-guarded by its own implementation.
        const pp = globalThis.__zod_globalConfig?.postProcessor;
        if (pp)
            pp(inst);
        return inst;
    }
    Object.defineProperty(_, "init", { value: init });
    Object.defineProperty(_, Symbol.hasInstance, {
        value: (inst) => {
            if (params?.Parent && inst instanceof params.Parent)
                return true;
            return inst?._zod?.traits?.has(name);
        },
    });
    Object.defineProperty(_, "name", { value: name });
    return _;
}
class $ZodAsyncError extends Error {
    constructor() {
        super(`Encountered Promise during synchronous parse. Use .parseAsync() instead.`);
    }
}
class $ZodEncodeError extends Error {
    constructor(name) {
        super(`Encountered unidirectional transform during encode: ${name}`);
        this.name = "ZodEncodeError";
    }
}
(_a$1 = globalThis).__zod_globalConfig ?? (_a$1.__zod_globalConfig = {});
const globalConfig = globalThis.__zod_globalConfig;
function config(newConfig) {
    if (newConfig)
        Object.assign(globalConfig, newConfig);
    return globalConfig;
}

/* Computing the message eagerly is expensive (pretty-printed JSON of all
 * issues), so defer it until first read. The accessor functions and
 * descriptors are shared across instances to keep error construction
 * cheap; the computed message is cached on the internals object. The
 * setter preserves plain assignment semantics for consumers that
 * overwrite `message`. */
function _getMessage() {
    const internals = this._zod;
    internals.message ?? (internals.message = JSON.stringify(internals.def, jsonStringifyReplacer, 2));
    return internals.message;
}
function _setMessage(value) {
    this._zod.message = value;
}
const _messageDesc = {
    get: _getMessage,
    set: _setMessage,
    enumerable: true,
    configurable: true,
};
const _issuesDesc = { value: undefined, enumerable: false };
/* Prototypes that already carry the lazy `toString`. Seeded with the
 * intrinsics so that `init` on a foreign object — it accepts any object —
 * can never install an accessor onto a prototype we do not own. */
const _installedToString = /* @__PURE__ */ new WeakSet([Object.prototype, Error.prototype]);
const initializer$1 = (inst, def) => {
    inst.name = "$ZodError";
    // `_zod` is already non-enumerable: $constructor's init defined it with this same descriptor
    _issuesDesc.value = def;
    Object.defineProperty(inst, "issues", _issuesDesc);
    // Clear the shared slot; a retained `value` pins the last error's issues.
    _issuesDesc.value = undefined;
    Object.defineProperty(inst, "message", _messageDesc);
    /* `toString` lives as a non-enumerable lazy getter on the shared
     * prototype; on first access it caches a per-instance closure so
     * detached usage still works. */
    const proto = Object.getPrototypeOf(inst);
    if (!_installedToString.has(proto)) {
        _installedToString.add(proto);
        Object.defineProperty(proto, "toString", {
            configurable: true,
            enumerable: false,
            get() {
                const value = () => this.message;
                Object.defineProperty(this, "toString", { value, configurable: true, writable: true });
                return value;
            },
            set(value) {
                Object.defineProperty(this, "toString", { value, configurable: true, writable: true });
            },
        });
    }
};
const $ZodError = $constructor("$ZodError", initializer$1);
/** Get-or-create `obj[key]` as an own data property. A path segment naming an inherited member
 * ("toString", "constructor") would otherwise read through to the prototype, and assigning
 * "__proto__" would hit the setter instead of creating a key. */
function node(obj, key, make) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) {
        if (key === "__proto__") {
            Object.defineProperty(obj, key, { value: make(), writable: true, enumerable: true, configurable: true });
        }
        else {
            obj[key] = make();
        }
    }
    return obj[key];
}
function flattenError(error, mapper = (issue) => issue.message) {
    const fieldErrors = {};
    const formErrors = [];
    for (const sub of error.issues) {
        if (sub.path.length > 0) {
            node(fieldErrors, sub.path[0], () => []).push(mapper(sub));
        }
        else {
            formErrors.push(mapper(sub));
        }
    }
    return { formErrors, fieldErrors };
}
function formatError(error, mapper = (issue) => issue.message) {
    const fieldErrors = { _errors: [] };
    const processError = (error, path = []) => {
        for (const issue of error.issues) {
            if (issue.code === "invalid_union" && issue.errors.length) {
                issue.errors.map((issues) => processError({ issues }, [...path, ...issue.path]));
            }
            else if (issue.code === "invalid_key") {
                processError({ issues: issue.issues }, [...path, ...issue.path]);
            }
            else if (issue.code === "invalid_element") {
                processError({ issues: issue.issues }, [...path, ...issue.path]);
            }
            else {
                const fullpath = [...path, ...issue.path];
                if (fullpath.length === 0) {
                    fieldErrors._errors.push(mapper(issue));
                }
                else {
                    let curr = fieldErrors;
                    let i = 0;
                    while (i < fullpath.length) {
                        const el = fullpath[i];
                        const terminal = i === fullpath.length - 1;
                        // `_errors` is reserved by this legacy format, so merge a matching path segment into the current node instead of treating its array as a child.
                        if (el === "_errors") {
                            if (terminal)
                                curr._errors.push(mapper(issue));
                            i++;
                            continue;
                        }
                        // A path element may collide with an inherited property name such as
                        // "__proto__" or "constructor". Truthiness checks read the prototype
                        // (so no node is created, then ._errors.push throws), and bracket
                        // assignment of "__proto__" hits the setter instead of creating an
                        // own key. Guard the read with hasOwnProperty and create the node
                        // with defineProperty so any path element becomes a real own key.
                        if (!Object.prototype.hasOwnProperty.call(curr, el)) {
                            Object.defineProperty(curr, el, {
                                value: { _errors: [] },
                                enumerable: true,
                                writable: true,
                                configurable: true,
                            });
                        }
                        const node = curr[el];
                        if (terminal) {
                            node._errors.push(mapper(issue));
                        }
                        curr = node;
                        i++;
                    }
                }
            }
        }
    };
    processError(error);
    return fieldErrors;
}

// Always both keys, so the `_params` read site in `_parse` sees one object shape rather than two.
function finalizeParams(callee, params) {
    return { callee: params?.callee ?? callee, Err: params?.Err };
}
const _parse = (_Err) => {
    const fn = (schema, value, _ctx, _params) => {
        const ctx = _ctx ? { ..._ctx, async: false } : { async: false };
        const result = schema._zod.run({ value, issues: [] }, ctx);
        if (result instanceof Promise) {
            throw new $ZodAsyncError();
        }
        if (result.issues.length) {
            const e = new (_params?.Err ?? _Err)(result.issues.map((iss) => finalizeIssue(iss, ctx, config())));
            captureStackTrace(e, _params?.callee ?? fn);
            throw e;
        }
        return result.value;
    };
    return fn;
};
const _parseAsync = (_Err) => {
    const fn = async (schema, value, _ctx, params) => {
        const ctx = _ctx ? { ..._ctx, async: true } : { async: true };
        let result = schema._zod.run({ value, issues: [] }, ctx);
        if (result instanceof Promise)
            result = await result;
        if (result.issues.length) {
            const e = new (params?.Err ?? _Err)(result.issues.map((iss) => finalizeIssue(iss, ctx, config())));
            captureStackTrace(e, params?.callee ?? fn);
            throw e;
        }
        return result.value;
    };
    return fn;
};
const _safeParse = (_Err) => (schema, value, _ctx) => {
    const ctx = _ctx ? { ..._ctx, async: false } : { async: false };
    const result = schema._zod.run({ value, issues: [] }, ctx);
    if (result instanceof Promise) {
        throw new $ZodAsyncError();
    }
    return result.issues.length ? failure(_Err, result.issues, ctx) : { success: true, data: result.value };
};
// the error is built on the first read of `error`: finalizing the issues and constructing the instance is most of a failing parse, and a caller that only branches on `success` never pays it. a getter in the literal keeps this small; the alternative, one shared accessor descriptor plus a hidden state slot, reads ~15% faster but costs ~75 B gzipped in every bundle
function failure(Err, issues, ctx) {
    let error;
    return {
        success: false,
        get error() {
            if (!error) {
                error = new Err(issues.map((iss) => finalizeIssue(iss, ctx, config())));
                // finalizeIssue drops `input`, so the built error holds nothing; keeping the raw issues past this point pins the parsed value for the life of the result
                issues = undefined;
                ctx = undefined;
            }
            return error;
        },
        set error(e) {
            error = e;
            // a replacement makes the getter's branch unreachable, so the captures have to go here too
            issues = undefined;
            ctx = undefined;
        },
    };
}
const _safeParseAsync = (_Err) => async (schema, value, _ctx) => {
    const ctx = _ctx ? { ..._ctx, async: true } : { async: true };
    let result = schema._zod.run({ value, issues: [] }, ctx);
    if (result instanceof Promise)
        result = await result;
    return result.issues.length ? failure(_Err, result.issues, ctx) : { success: true, data: result.value };
};
// registry mirrors of the compiler's sentinels, so this module never imports the compiler
const COMPILE_INVALID = /* @__PURE__ */ Symbol.for("zod.compile.invalid");
const COMPILE_FALLBACK = /* @__PURE__ */ Symbol.for("zod.compile.fallback");
// Deliberately tiny, because v8 will not inline a body carrying the fallback's object literals and throw. Everything that is not the compiled happy path lives in validateFallback, and that split is worth ~35% on a compiled schema.
const validate = ((schema, value, _ctx) => {
    const validator = schema._zod.bag.validator;
    if (validator !== undefined) {
        if (validator(value) !== COMPILE_INVALID)
            return true;
        // a definite sentinel means the runtime would reject, so skip the re-parse; a ctx can still change the answer
        if (validator.definite === true && _ctx === undefined)
            return false;
    }
    return validateFallback(schema, value, _ctx);
});
function validateFallback(schema, value, _ctx) {
    const ctx = _ctx
        ? { ..._ctx, async: false, abortEarly: true }
        : { async: false, abortEarly: true };
    const fallbackRun = schema._zod.bag.fallbackRun;
    let result;
    if (fallbackRun) {
        // skip nested fast paths on the fallback, so user callbacks keep the at-most-twice bound
        ctx[COMPILE_FALLBACK] = true;
        result = fallbackRun({ value, issues: [] }, ctx);
    }
    else {
        result = schema._zod.run({ value, issues: [] }, ctx);
    }
    if (result instanceof Promise) {
        throw new $ZodAsyncError();
    }
    return result.issues.length === 0;
}
// no fast path: the compiler keeps async parses on the runtime, because a promise-returning callback that is not declared async compiles to a throw
const validateAsync$1 = async (schema, value, _ctx) => {
    const ctx = _ctx
        ? { ..._ctx, async: true, abortEarly: true }
        : { async: true, abortEarly: true };
    let result = schema._zod.run({ value, issues: [] }, ctx);
    if (result instanceof Promise)
        result = await result;
    return result.issues.length === 0;
};
const _encode = (_Err) => {
    const parse = _parse(_Err);
    const fn = (schema, value, _ctx, _params) => {
        const ctx = _ctx ? { ..._ctx, direction: "backward" } : { direction: "backward" };
        return parse(schema, value, ctx, finalizeParams(fn, _params));
    };
    return fn;
};
const _decode = (_Err) => {
    const parse = _parse(_Err);
    const fn = (schema, value, _ctx, _params) => {
        return parse(schema, value, _ctx, finalizeParams(fn, _params));
    };
    return fn;
};
const _encodeAsync = (_Err) => {
    const parseAsync = _parseAsync(_Err);
    const fn = async (schema, value, _ctx, _params) => {
        const ctx = _ctx ? { ..._ctx, direction: "backward" } : { direction: "backward" };
        return (await parseAsync(schema, value, ctx, finalizeParams(fn, _params)));
    };
    return fn;
};
const _decodeAsync = (_Err) => {
    const parseAsync = _parseAsync(_Err);
    const fn = async (schema, value, _ctx, _params) => {
        return await parseAsync(schema, value, _ctx, finalizeParams(fn, _params));
    };
    return fn;
};
const _safeEncode = (_Err) => (schema, value, _ctx) => {
    const ctx = _ctx ? { ..._ctx, direction: "backward" } : { direction: "backward" };
    return _safeParse(_Err)(schema, value, ctx);
};
const _safeDecode = (_Err) => (schema, value, _ctx) => {
    return _safeParse(_Err)(schema, value, _ctx);
};
const _safeEncodeAsync = (_Err) => async (schema, value, _ctx) => {
    const ctx = _ctx ? { ..._ctx, direction: "backward" } : { direction: "backward" };
    return _safeParseAsync(_Err)(schema, value, ctx);
};
const _safeDecodeAsync = (_Err) => async (schema, value, _ctx) => {
    return _safeParseAsync(_Err)(schema, value, _ctx);
};

/**
 * @deprecated CUID v1 is deprecated by its authors due to information leakage
 * (timestamps embedded in the id). Use {@link cuid2} instead.
 * See https://github.com/paralleldrive/cuid.
 */
const cuid = /^[cC][0-9a-z]{6,}$/;
const cuid2 = /^[0-9a-z]+$/;
const ulid = /^[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$/;
const xid = /^[0-9a-vA-V]{20}$/;
const ksuid = /^[A-Za-z0-9]{27}$/;
const nanoid = /^[a-zA-Z0-9_-]{21}$/;
function nanoidOfLength(length) {
    return new RegExp(`^[a-zA-Z0-9_-]{${length}}$`);
}
/** ISO 8601-1 duration regex. Does not support the 8601-2 extensions like negative durations or fractional/negative components. */
const duration = /^P(?:(\d+W)|(?!.*W)(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+([.,]\d+)?S)?)?)$/;
/** A regex for any UUID-like identifier: 8-4-4-4-12 hex pattern */
const guid = /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;
/** Returns a regex for validating an RFC 9562/4122 UUID.
 *
 * @param version Optionally specify a version 1-8. If no version is specified, all versions are supported. */
const uuid = (version) => {
    if (!version)
        return /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/;
    return new RegExp(`^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-${version}[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12})$`);
};
/** Practical email validation */
const email = /^(?:[A-Za-z0-9_'+\-]+\.)*[A-Za-z0-9_'+\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$/;
// from https://thekevinscott.com/emojis-in-javascript/#writing-a-regular-expression
// Single character class, not an alternation: the two properties overlap (U+1F9B0-U+1F9B3), so `(A|B)+` backtracks exponentially on a failed match. The leading lookahead then demands one anchor — a pictograph, a regional indicator, or the enclosing keycap — because `\p{Emoji_Component}` on its own covers ASCII digits, `#`, `*`, ZWJ, variation selectors and skin tone modifiers, none of which is an emoji without a base.
const _emoji$1 = `^(?=[\\s\\S]*[\\p{Extended_Pictographic}\\p{Regional_Indicator}\\u20E3])[\\p{Extended_Pictographic}\\p{Emoji_Component}]+$`;
function emoji() {
    return new RegExp(_emoji$1, "u");
}
const ipv4 = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])$/;
const ipv6 = /^(([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:))$/;
const cidrv4 = /^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\/([0-9]|[1-2][0-9]|3[0-2])$/;
const cidrv6 = /^(([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:))\/(12[0-8]|1[01][0-9]|[1-9]?[0-9])$/;
// https://stackoverflow.com/questions/7860392/determine-if-string-is-in-base64-using-javascript
const base64 = /^$|^(?:[0-9a-zA-Z+/]{4})*(?:(?:[0-9a-zA-Z+/]{2}==)|(?:[0-9a-zA-Z+/]{3}=))?$/;
const base64url = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?$/;
const httpProtocol = /^https?$/;
// https://blog.stevenlevithan.com/archives/validate-phone-number#r4-3 (regex sans spaces) E.164: leading digit must be 1-9; total digits (excluding '+') between 7-15
const e164 = /^\+[1-9]\d{6,14}$/;
const dateSource = `(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))`;

function anchor(source) {
    return new RegExp(`^${source}$`);
}
const date = /*@__PURE__*/ anchor(dateSource);
function timeSource(args) {
    const hhmm = `(?:[01]\\d|2[0-3]):[0-5]\\d`;
    const regex = typeof args.precision === "number"
        ? args.precision === -1
            ? `${hhmm}`
            : args.precision === 0
                ? `${hhmm}:[0-5]\\d`
                : `${hhmm}:[0-5]\\d\\.\\d{${args.precision}}`
        : args.seconds
            ? `${hhmm}:[0-5]\\d(?:\\.\\d+)?`
            : `${hhmm}(?::[0-5]\\d(?:\\.\\d+)?)?`;
    return regex;
}
function time(args) {
    return new RegExp(`^${timeSource(args)}$`);
}
// Adapted from https://stackoverflow.com/a/3143231
function datetime(args) {
    const opts = ["Z"];
    // if (args.offset) opts.push(`([+-]\\d{2}:\\d{2})`);
    if (args.offset)
        opts.push(`([+-](?:[01]\\d|2[0-3]):[0-5]\\d)`);
    // RFC 3339 mandates seconds wherever the time carries a `Z` or an offset, so only the unqualified form `local` adds may omit them
    const qualified = `${timeSource({ precision: args.precision, seconds: true })}(?:${opts.join("|")})`;
    const timeRegex = args.local ? `${qualified}|${timeSource({ precision: args.precision })}` : qualified;
    return new RegExp(`^${dateSource}T(?:${timeRegex})$`);
}
// the unbounded form of `string()` as a literal, so every plain string shares one instance instead of building its own
const anyString = /^[\s\S]{0,}$/;
const integer = /^-?\d+$/;
const number$1 = /^-?\d+(?:\.\d+)?$/;
const boolean$1 = /^(?:true|false)$/i;
// regex for string with no uppercase letters
const lowercase = /^[^A-Z]*$/;
// regex for string with no lowercase letters
const uppercase = /^[^a-z]*$/;

// import { $ZodType } from "./schemas.js";
const $ZodCheck = /*@__PURE__*/ $constructor("$ZodCheck", (inst, def) => {
    var _a;
    inst._zod ?? (inst._zod = {});
    inst._zod.def = def;
    (_a = inst._zod).onattach ?? (_a.onattach = []);
});
/** Default `when` for length-based checks: run only on non-nullish values with a `length`. */
const _whenHasLength = (payload) => {
    const val = payload.value;
    return !nullish(val) && val.length !== undefined;
};
const numericOriginMap = {
    number: "number",
    bigint: "bigint",
    object: "date",
};
const $ZodCheckLessThan = /*@__PURE__*/ $constructor("$ZodCheckLessThan", (inst, def) => {
    $ZodCheck.init(inst, def);
    const origin = numericOriginMap[typeof def.value];
    inst._zod.check = (payload) => {
        if (def.inclusive ? payload.value <= def.value : payload.value < def.value) {
            return;
        }
        payload.issues.push({
            origin: numericOriginMap[typeof payload.value] ?? origin,
            code: "too_big",
            maximum: typeof def.value === "object" ? def.value.getTime() : def.value,
            input: payload.value,
            inclusive: def.inclusive,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckGreaterThan = /*@__PURE__*/ $constructor("$ZodCheckGreaterThan", (inst, def) => {
    $ZodCheck.init(inst, def);
    const origin = numericOriginMap[typeof def.value];
    inst._zod.check = (payload) => {
        if (def.inclusive ? payload.value >= def.value : payload.value > def.value) {
            return;
        }
        payload.issues.push({
            origin: numericOriginMap[typeof payload.value] ?? origin,
            code: "too_small",
            minimum: typeof def.value === "object" ? def.value.getTime() : def.value,
            input: payload.value,
            inclusive: def.inclusive,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckMultipleOf = 
/*@__PURE__*/ $constructor("$ZodCheckMultipleOf", (inst, def) => {
    $ZodCheck.init(inst, def);
    inst._zod.check = (payload) => {
        if (typeof payload.value !== typeof def.value)
            throw new Error("Cannot mix number and bigint in multiple_of check.");
        const isMultiple = typeof payload.value === "bigint"
            ? // `value % 0n` throws, and nothing is a multiple of zero — the number branch already fails this way via NaN
                def.value !== BigInt(0) && payload.value % def.value === BigInt(0)
            : floatSafeRemainder(payload.value, def.value) === 0;
        if (isMultiple)
            return;
        payload.issues.push({
            origin: typeof payload.value,
            code: "not_multiple_of",
            divisor: def.value,
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckNumberFormat = /*@__PURE__*/ $constructor("$ZodCheckNumberFormat", (inst, def) => {
    $ZodCheck.init(inst, def); // no format checks
    def.format = def.format || "float64";
    const isInt = def.format?.includes("int");
    const origin = isInt ? "int" : "number";
    const [minimum, maximum] = NUMBER_FORMAT_RANGES[def.format];
    inst._zod.check = (payload) => {
        const input = payload.value;
        if (isInt) {
            if (!Number.isInteger(input)) {
                // invalid_format issue
                // payload.issues.push({
                //   expected: def.format,
                //   format: def.format,
                //   code: "invalid_format",
                //   input,
                //   inst,
                // });
                // invalid_type issue
                payload.issues.push({
                    expected: origin,
                    format: def.format,
                    code: "invalid_type",
                    continue: false,
                    input,
                    inst,
                });
                return;
                // not_multiple_of issue
                // payload.issues.push({
                //   code: "not_multiple_of",
                //   origin: "number",
                //   input,
                //   inst,
                //   divisor: 1,
                // });
            }
            if (!Number.isSafeInteger(input)) {
                if (input > 0) {
                    // too_big
                    payload.issues.push({
                        input,
                        code: "too_big",
                        maximum: Number.MAX_SAFE_INTEGER,
                        note: "Integers must be within the safe integer range.",
                        inst,
                        origin,
                        inclusive: true,
                        continue: !def.abort,
                    });
                }
                else {
                    // too_small
                    payload.issues.push({
                        input,
                        code: "too_small",
                        minimum: Number.MIN_SAFE_INTEGER,
                        note: "Integers must be within the safe integer range.",
                        inst,
                        origin,
                        inclusive: true,
                        continue: !def.abort,
                    });
                }
                return;
            }
        }
        if (input < minimum) {
            payload.issues.push({
                origin: "number",
                input,
                code: "too_small",
                minimum,
                inclusive: true,
                inst,
                continue: !def.abort,
            });
        }
        if (input > maximum) {
            payload.issues.push({
                origin: "number",
                input,
                code: "too_big",
                maximum,
                inclusive: true,
                inst,
                continue: !def.abort,
            });
        }
    };
});
const $ZodCheckMaxLength = /*@__PURE__*/ $constructor("$ZodCheckMaxLength", (inst, def) => {
    var _a;
    $ZodCheck.init(inst, def);
    (_a = inst._zod.def).when ?? (_a.when = _whenHasLength);
    inst._zod.check = (payload) => {
        const input = payload.value;
        const units = input.length;
        // Strings are measured in Unicode code points, not UTF-16 units. A code point is at most two units, so a string that already fits in units fits in code points; only an overflow has to be counted.
        const length = typeof input === "string" && units > def.maximum ? codePointLength(input) : units;
        if (length <= def.maximum)
            return;
        const origin = getLengthableOrigin(input);
        payload.issues.push({
            origin,
            code: "too_big",
            maximum: def.maximum,
            inclusive: true,
            input,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckMinLength = /*@__PURE__*/ $constructor("$ZodCheckMinLength", (inst, def) => {
    var _a;
    $ZodCheck.init(inst, def);
    (_a = inst._zod.def).when ?? (_a.when = _whenHasLength);
    inst._zod.check = (payload) => {
        const input = payload.value;
        const units = input.length;
        // A code point is one or two UTF-16 units, so fewer units than the floor can never reach it and twice the floor always clears it. Only in between is the exact count in doubt.
        const length = typeof input === "string" && units >= def.minimum && units < def.minimum * 2
            ? codePointLength(input)
            : units;
        if (length >= def.minimum)
            return;
        const origin = getLengthableOrigin(input);
        payload.issues.push({
            origin,
            code: "too_small",
            minimum: def.minimum,
            inclusive: true,
            input,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckLengthEquals = /*@__PURE__*/ $constructor("$ZodCheckLengthEquals", (inst, def) => {
    var _a;
    $ZodCheck.init(inst, def);
    (_a = inst._zod.def).when ?? (_a.when = _whenHasLength);
    inst._zod.check = (payload) => {
        const input = payload.value;
        const units = input.length;
        // A code point is one or two UTF-16 units, so outside `[length, length * 2]` units the target is missed either way — and missed in the same direction in both measures.
        const length = typeof input === "string" && units >= def.length && units <= def.length * 2
            ? codePointLength(input)
            : units;
        if (length === def.length)
            return;
        const origin = getLengthableOrigin(input);
        const tooBig = length > def.length;
        payload.issues.push({
            origin,
            ...(tooBig ? { code: "too_big", maximum: def.length } : { code: "too_small", minimum: def.length }),
            inclusive: true,
            exact: true,
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckStringFormat = /*@__PURE__*/ $constructor("$ZodCheckStringFormat", (inst, def) => {
    var _a, _b;
    $ZodCheck.init(inst, def);
    if (def.pattern)
        (_a = inst._zod).check ?? (_a.check = (payload) => {
            def.pattern.lastIndex = 0;
            if (def.pattern.test(payload.value))
                return;
            payload.issues.push({
                origin: "string",
                code: "invalid_format",
                format: def.format,
                input: payload.value,
                ...(def.pattern ? { pattern: def.pattern.toString() } : {}),
                inst,
                continue: !def.abort,
            });
        });
    else
        (_b = inst._zod).check ?? (_b.check = () => { });
});
const $ZodCheckRegex = /*@__PURE__*/ $constructor("$ZodCheckRegex", (inst, def) => {
    $ZodCheckStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        def.pattern.lastIndex = 0;
        if (def.pattern.test(payload.value))
            return;
        payload.issues.push({
            origin: "string",
            code: "invalid_format",
            format: "regex",
            input: payload.value,
            pattern: def.pattern.toString(),
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckLowerCase = /*@__PURE__*/ $constructor("$ZodCheckLowerCase", (inst, def) => {
    def.pattern ?? (def.pattern = lowercase);
    $ZodCheckStringFormat.init(inst, def);
});
const $ZodCheckUpperCase = /*@__PURE__*/ $constructor("$ZodCheckUpperCase", (inst, def) => {
    def.pattern ?? (def.pattern = uppercase);
    $ZodCheckStringFormat.init(inst, def);
});
const $ZodCheckIncludes = /*@__PURE__*/ $constructor("$ZodCheckIncludes", (inst, def) => {
    $ZodCheck.init(inst, def);
    const escapedRegex = escapeRegex(def.includes);
    // `String.prototype.includes(sub, position)` matches `sub` at `position`
    // OR LATER, so the pattern must allow at least `position` leading chars
    // (`{N,}`), not exactly `position` chars (`{N}`).
    const pattern = new RegExp(typeof def.position === "number" ? `^.{${def.position},}${escapedRegex}` : escapedRegex);
    def.pattern = pattern;
    inst._zod.check = (payload) => {
        if (payload.value.includes(def.includes, def.position))
            return;
        payload.issues.push({
            origin: "string",
            code: "invalid_format",
            format: "includes",
            includes: def.includes,
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckStartsWith = /*@__PURE__*/ $constructor("$ZodCheckStartsWith", (inst, def) => {
    $ZodCheck.init(inst, def);
    const pattern = new RegExp(`^${escapeRegex(def.prefix)}.*`);
    def.pattern ?? (def.pattern = pattern);
    inst._zod.check = (payload) => {
        if (payload.value.startsWith(def.prefix))
            return;
        payload.issues.push({
            origin: "string",
            code: "invalid_format",
            format: "starts_with",
            prefix: def.prefix,
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckEndsWith = /*@__PURE__*/ $constructor("$ZodCheckEndsWith", (inst, def) => {
    $ZodCheck.init(inst, def);
    const pattern = new RegExp(`.*${escapeRegex(def.suffix)}$`);
    def.pattern ?? (def.pattern = pattern);
    inst._zod.check = (payload) => {
        if (payload.value.endsWith(def.suffix))
            return;
        payload.issues.push({
            origin: "string",
            code: "invalid_format",
            format: "ends_with",
            suffix: def.suffix,
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckOverwrite = /*@__PURE__*/ $constructor("$ZodCheckOverwrite", (inst, def) => {
    $ZodCheck.init(inst, def);
    inst._zod.check = (payload) => {
        payload.value = def.tx(payload.value);
    };
});

class Doc {
    constructor(args = [], closed = {}) {
        this.content = [];
        this.indent = 0;
        this.args = args;
        this.closed = closed;
    }
    // the compiler catches a child's throw and keeps writing into this doc, so the indent has to unwind with it
    indented(fn) {
        this.indent += 1;
        try {
            fn(this);
        }
        finally {
            this.indent -= 1;
        }
    }
    write(arg) {
        if (typeof arg === "function") {
            arg(this, { execution: "sync" });
            arg(this, { execution: "async" });
            return;
        }
        const content = arg;
        const lines = content.split("\n").filter((x) => x);
        const minIndent = Math.min(...lines.map((x) => x.length - x.trimStart().length));
        const dedented = lines.map((x) => x.slice(minIndent)).map((x) => " ".repeat(this.indent * 2) + x);
        for (const line of dedented) {
            this.content.push(line);
        }
    }
    compile() {
        const F = Function;
        const content = this?.content ?? [``];
        const factory = new F(...Object.keys(this.closed), `return function (${this.args.join(", ")}) {\n${content.join("\n")}\n};`);
        return factory(...Object.values(this.closed));
    }
}

const version = {
    major: 4,
    minor: 6,
    patch: 7,
};

const $ZodType = /*@__PURE__*/ $constructor("$ZodType", (inst, def) => {
    var _a;
    inst ?? (inst = {});
    inst._zod.def = def; // set _def property
    inst._zod.bag = inst._zod.bag || {}; // initialize _bag object
    inst._zod.version = version;
    const defChecks = inst._zod.def.checks;
    // if inst is itself a checks.$ZodCheck, run it as a check
    const checks = inst._zod.traits.has("$ZodCheck")
        ? [inst, ...(defChecks ?? [])]
        : defChecks?.length
            ? [...defChecks]
            : [];
    for (const ch of checks) {
        for (const fn of ch._zod.onattach) {
            fn(inst);
        }
    }
    if (checks.length === 0) {
        // deferred initializer inst._zod.parse is not yet defined
        (_a = inst._zod).deferred ?? (_a.deferred = []);
        inst._zod.deferred?.push(() => {
            inst._zod.run = inst._zod.parse;
        });
    }
    else {
        const runChecks = (payload, checks, ctx) => {
            if (payload.memo)
                return payload;
            let isAborted = aborted(payload);
            let asyncResult;
            for (const ch of checks) {
                if (ch._zod.def.when) {
                    if (explicitlyAborted(payload))
                        continue;
                    const shouldRun = ch._zod.def.when(payload);
                    if (!shouldRun)
                        continue;
                }
                else if (isAborted) {
                    continue;
                }
                const currLen = payload.issues.length;
                const _ = ch._zod.check(payload);
                if (_ instanceof Promise && ctx?.async === false) {
                    throw new $ZodAsyncError();
                }
                if (asyncResult || _ instanceof Promise) {
                    asyncResult = (asyncResult ?? Promise.resolve()).then(async () => {
                        await _;
                        const nextLen = payload.issues.length;
                        if (nextLen === currLen)
                            return;
                        attachSchema(payload.issues, currLen, inst);
                        if (!isAborted)
                            isAborted = aborted(payload, currLen);
                    });
                }
                else {
                    const nextLen = payload.issues.length;
                    if (nextLen === currLen)
                        continue;
                    attachSchema(payload.issues, currLen, inst);
                    if (!isAborted)
                        isAborted = aborted(payload, currLen);
                }
            }
            if (asyncResult) {
                return asyncResult.then(() => {
                    return payload;
                });
            }
            return payload;
        };
        const handleCanaryResult = (canary, payload, ctx) => {
            // abort if the canary is aborted
            if (aborted(canary)) {
                canary.aborted = true;
                return canary;
            }
            // run checks first, then
            const checkResult = runChecks(payload, checks, ctx);
            if (checkResult instanceof Promise) {
                if (ctx.async === false)
                    throw new $ZodAsyncError();
                return checkResult.then((checkResult) => inst._zod.parse(checkResult, ctx));
            }
            return inst._zod.parse(checkResult, ctx);
        };
        inst._zod.run = (payload, ctx) => {
            if (ctx.skipChecks) {
                return inst._zod.parse(payload, ctx);
            }
            if (ctx.direction === "backward") {
                // run canary initial pass (no checks)
                const canary = inst._zod.parse({ value: payload.value, issues: [] }, { ...ctx, skipChecks: true });
                if (canary instanceof Promise) {
                    return canary.then((canary) => {
                        return handleCanaryResult(canary, payload, ctx);
                    });
                }
                return handleCanaryResult(canary, payload, ctx);
            }
            // forward
            const result = inst._zod.parse(payload, ctx);
            if (result instanceof Promise) {
                if (ctx.async === false)
                    throw new $ZodAsyncError();
                return result.then((result) => runChecks(result, checks, ctx));
            }
            return runChecks(result, checks, ctx);
        };
    }
}, {
    // Wrappers extend this by installing a richer factory over it; reading it eagerly would defeat the laziness.
    get "~standard"() {
        return hide(this, "~standard", standardProps(this));
    },
    set "~standard"(value) {
        own(this, "~standard", value);
    },
});
/** The Standard Schema surface for `inst`. Shared so wrappers can extend it without forcing it. */
// a Standard Schema result only reports issues, so a failure finalizes them straight off the raw payload: no ZodError, and no lazy result to read through
const toStandardResult = (r, ctx) => r.issues.length ? { issues: r.issues.map((iss) => finalizeIssue(iss, ctx, config())) } : { value: r.value };
async function validateAsync(inst, value) {
    const ctx = { async: true };
    return toStandardResult((await inst._zod.run({ value, issues: [] }, ctx)), ctx);
}
function standardProps(inst) {
    return {
        validate: (value) => {
            const ctx = { async: false };
            try {
                const r = inst._zod.run({ value, issues: [] }, ctx);
                if (!(r instanceof Promise))
                    return toStandardResult(r, ctx);
            }
            catch (_) { }
            // async function so a synchronously throwing check rejects instead of escaping validate
            return validateAsync(inst, value);
        },
        vendor: "zod",
        version: 1,
    };
}
const $ZodString = /*@__PURE__*/ $constructor("$ZodString", (inst, def) => {
    $ZodType.init(inst, def);
    // a format's own pattern, else unbounded; a template literal derives the check-aware form itself
    inst._zod.pattern = def.pattern ?? anyString;
    inst._zod.parse = (payload, _) => {
        if (def.coerce)
            try {
                payload.value = String(payload.value);
            }
            catch (_) { }
        if (typeof payload.value === "string")
            return payload;
        payload.issues.push({
            expected: "string",
            code: "invalid_type",
            input: payload.value,
            inst,
        });
        return payload;
    };
});
const $ZodStringFormat = /*@__PURE__*/ $constructor("$ZodStringFormat", (inst, def) => {
    // check initialization must come first
    $ZodCheckStringFormat.init(inst, def);
    $ZodString.init(inst, def);
});
const $ZodGUID = /*@__PURE__*/ $constructor("$ZodGUID", (inst, def) => {
    def.pattern ?? (def.pattern = guid);
    $ZodStringFormat.init(inst, def);
});
const $ZodUUID = /*@__PURE__*/ $constructor("$ZodUUID", (inst, def) => {
    if (def.version) {
        const versionMap = {
            v1: 1,
            v2: 2,
            v3: 3,
            v4: 4,
            v5: 5,
            v6: 6,
            v7: 7,
            v8: 8,
        };
        const v = versionMap[def.version];
        if (v === undefined)
            throw new Error(`Invalid UUID version: "${def.version}"`);
        def.pattern ?? (def.pattern = uuid(v));
    }
    else
        def.pattern ?? (def.pattern = uuid());
    $ZodStringFormat.init(inst, def);
});
const $ZodEmail = /*@__PURE__*/ $constructor("$ZodEmail", (inst, def) => {
    def.pattern ?? (def.pattern = email);
    $ZodStringFormat.init(inst, def);
});
/** The `://` guard rejected the input before the URL constructor saw it. */
const URL_BAD_FORMAT = 1;
/** The URL parser rejected the input. */
const URL_UNPARSEABLE = 2;
function canParseURL(input) {
    try {
        if (typeof URL !== "undefined" && typeof URL.canParse === "function")
            return URL.canParse(input);
        new URL(input);
        return true;
    }
    catch {
        return false;
    }
}
function validateURL(trimmed, def) {
    if (!("normalize" in def) && !("hostname" in def) && !("protocol" in def)) {
        return canParseURL(trimmed) || URL_UNPARSEABLE;
    }
    return parseURLObject(trimmed, def);
}
/** Parses a URL while preserving the non-normalizing HTTP guard. */
function parseURLObject(trimmed, def) {
    // When normalize is off, require :// for http/https URLs. This prevents strings like "http:example.com" or "https:/path" from being silently accepted
    if (!def.normalize && def.protocol?.source === httpProtocol.source && !/^https?:\/\//i.test(trimmed)) {
        return URL_BAD_FORMAT;
    }
    try {
        if (typeof URL !== "undefined") {
            const URLStatic = URL;
            if (typeof URLStatic.parse === "function")
                return URLStatic.parse(trimmed) ?? URL_UNPARSEABLE;
        }
        // @ts-ignore
        return new URL(trimmed);
    }
    catch {
        return URL_UNPARSEABLE;
    }
}
const asciiTabOrNewline = /[\t\n\r]/g;
/** The URL parser deletes every ASCII tab, LF and CR from its input before it parses, so `new URL("https://exa\nmple.com")` reports on `example.com`. Applying the same deletion to the returned value closes the half of that divergence which can move the host; the parser's other rewrite, stripping C0 controls at the edges, cannot. */
function stripTabAndNewline(value) {
    return value.replace(asciiTabOrNewline, "");
}
function urlHostnameOk(url, hostname) {
    hostname.lastIndex = 0;
    return hostname.test(url.hostname);
}
function urlProtocolOk(url, protocol) {
    protocol.lastIndex = 0;
    return protocol.test(url.protocol.endsWith(":") ? url.protocol.slice(0, -1) : url.protocol);
}
const $ZodURL = /*@__PURE__*/ $constructor("$ZodURL", (inst, def) => {
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        try {
            // Trim whitespace from input
            const trimmed = payload.value.trim();
            const url = validateURL(trimmed, def);
            if (url === URL_BAD_FORMAT) {
                payload.issues.push({
                    code: "invalid_format",
                    format: "url",
                    note: "Invalid URL format",
                    input: payload.value,
                    inst,
                    continue: !def.abort,
                });
                return;
            }
            if (url === URL_UNPARSEABLE) {
                payload.issues.push({
                    code: "invalid_format",
                    format: "url",
                    input: payload.value,
                    inst,
                    continue: !def.abort,
                });
                return;
            }
            if (url === true) {
                payload.value = stripTabAndNewline(trimmed);
                return;
            }
            if (def.hostname && !urlHostnameOk(url, def.hostname)) {
                payload.issues.push({
                    code: "invalid_format",
                    format: "url",
                    note: "Invalid hostname",
                    pattern: def.hostname.source,
                    input: payload.value,
                    inst,
                    continue: !def.abort,
                });
            }
            if (def.protocol && !urlProtocolOk(url, def.protocol)) {
                payload.issues.push({
                    code: "invalid_format",
                    format: "url",
                    note: "Invalid protocol",
                    pattern: def.protocol.source,
                    input: payload.value,
                    inst,
                    continue: !def.abort,
                });
            }
            // Set the output value based on normalize flag
            payload.value = def.normalize ? url.href : stripTabAndNewline(trimmed);
            return;
        }
        catch (_) {
            payload.issues.push({
                code: "invalid_format",
                format: "url",
                input: payload.value,
                inst,
                continue: !def.abort,
            });
        }
    };
});
const $ZodEmoji = /*@__PURE__*/ $constructor("$ZodEmoji", (inst, def) => {
    def.pattern ?? (def.pattern = emoji());
    $ZodStringFormat.init(inst, def);
});
const $ZodNanoID = /*@__PURE__*/ $constructor("$ZodNanoID", (inst, def) => {
    if (def.length !== undefined && (!Number.isInteger(def.length) || def.length < 1))
        throw new Error(`Invalid nanoid length: ${def.length}`);
    def.pattern ?? (def.pattern = def.length === undefined ? nanoid : nanoidOfLength(def.length));
    $ZodStringFormat.init(inst, def);
});
/**
 * @deprecated CUID v1 is deprecated by its authors due to information leakage
 * (timestamps embedded in the id). Use {@link $ZodCUID2} instead.
 * See https://github.com/paralleldrive/cuid.
 */
const $ZodCUID = /*@__PURE__*/ $constructor("$ZodCUID", (inst, def) => {
    def.pattern ?? (def.pattern = cuid);
    $ZodStringFormat.init(inst, def);
});
const $ZodCUID2 = /*@__PURE__*/ $constructor("$ZodCUID2", (inst, def) => {
    def.pattern ?? (def.pattern = cuid2);
    $ZodStringFormat.init(inst, def);
});
const $ZodULID = /*@__PURE__*/ $constructor("$ZodULID", (inst, def) => {
    def.pattern ?? (def.pattern = ulid);
    $ZodStringFormat.init(inst, def);
});
const $ZodXID = /*@__PURE__*/ $constructor("$ZodXID", (inst, def) => {
    def.pattern ?? (def.pattern = xid);
    $ZodStringFormat.init(inst, def);
});
const $ZodKSUID = /*@__PURE__*/ $constructor("$ZodKSUID", (inst, def) => {
    def.pattern ?? (def.pattern = ksuid);
    $ZodStringFormat.init(inst, def);
});
const $ZodISODateTime = /*@__PURE__*/ $constructor("$ZodISODateTime", (inst, def) => {
    def.pattern ?? (def.pattern = datetime(def));
    $ZodStringFormat.init(inst, def);
});
const $ZodISODate = /*@__PURE__*/ $constructor("$ZodISODate", (inst, def) => {
    def.pattern ?? (def.pattern = date);
    $ZodStringFormat.init(inst, def);
});
const $ZodISOTime = /*@__PURE__*/ $constructor("$ZodISOTime", (inst, def) => {
    def.pattern ?? (def.pattern = time(def));
    $ZodStringFormat.init(inst, def);
});
const $ZodISODuration = /*@__PURE__*/ $constructor("$ZodISODuration", (inst, def) => {
    def.pattern ?? (def.pattern = duration);
    $ZodStringFormat.init(inst, def);
});
const $ZodIPv4 = /*@__PURE__*/ $constructor("$ZodIPv4", (inst, def) => {
    def.pattern ?? (def.pattern = ipv4);
    $ZodStringFormat.init(inst, def);
});
/** An IPv6 address is written with hex digits, colons and dots, and nothing else. The guard is what makes the check below an IPv6 check: `new URL("http://[...]")` parses an authority, not an address, so `@` and `\` re-delimit it and `"::@1\\"` validates against the host `0.0.0.1`. The URL parser also deletes ASCII tab, LF and CR rather than failing, which is how `"::1\n"` validated as `::1`. */
const ipv6Alphabet = /^[0-9a-fA-F:.]+$/;
function isValidIPv6(value) {
    if (!ipv6Alphabet.test(value))
        return false;
    return canParseURL(`http://[${value}]`);
}
const $ZodIPv6 = /*@__PURE__*/ $constructor("$ZodIPv6", (inst, def) => {
    def.pattern ?? (def.pattern = ipv6);
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (!isValidIPv6(payload.value)) {
            payload.issues.push({
                code: "invalid_format",
                format: "ipv6",
                input: payload.value,
                inst,
                continue: !def.abort,
            });
        }
    };
});
const $ZodCIDRv4 = /*@__PURE__*/ $constructor("$ZodCIDRv4", (inst, def) => {
    def.pattern ?? (def.pattern = cidrv4);
    $ZodStringFormat.init(inst, def);
});
function isValidCIDRv6(value) {
    const parts = value.split("/");
    if (parts.length !== 2)
        return false;
    const [address, prefix] = parts;
    if (!prefix)
        return false;
    const prefixNum = Number(prefix);
    if (`${prefixNum}` !== prefix)
        return false;
    if (prefixNum < 0 || prefixNum > 128)
        return false;
    return isValidIPv6(address);
}
const $ZodCIDRv6 = /*@__PURE__*/ $constructor("$ZodCIDRv6", (inst, def) => {
    def.pattern ?? (def.pattern = cidrv6); // not used for validation
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (!isValidCIDRv6(payload.value)) {
            payload.issues.push({
                code: "invalid_format",
                format: "cidrv6",
                input: payload.value,
                inst,
                continue: !def.abort,
            });
        }
    };
});
//////////////////////////////   ZodBase64   //////////////////////////////
function isValidBase64(data) {
    if (data === "")
        return true;
    // atob ignores whitespace, so reject it up front.
    if (/\s/.test(data))
        return false;
    if (data.length % 4 !== 0)
        return false;
    try {
        // @ts-ignore
        atob(data);
        return true;
    }
    catch {
        return false;
    }
}
// lax on purpose: the quantified regexes.base64 overflows the regex stack on multi-MB input and its leading ^$| alternation leaks through template-literal composition; isValidBase64 enforces length and padding
const base64Charset = /^[0-9a-zA-Z+/]*={0,2}$/;
const $ZodBase64 = /*@__PURE__*/ $constructor("$ZodBase64", (inst, def) => {
    def.pattern ?? (def.pattern = base64Charset);
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (isValidBase64(payload.value))
            return;
        payload.issues.push({
            code: "invalid_format",
            format: "base64",
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
//////////////////////////////   ZodBase64URL   //////////////////////////////
// lax on purpose: the quantified regexes.base64url overflows the regex stack on multi-MB input; isValidBase64 enforces length on the padded string
const base64urlCharset = /^[A-Za-z0-9_-]*$/;
function isValidBase64URL(data) {
    if (!base64urlCharset.test(data))
        return false;
    const base64 = data.replace(/[-_]/g, (c) => (c === "-" ? "+" : "/"));
    const padded = base64.padEnd(Math.ceil(base64.length / 4) * 4, "=");
    return isValidBase64(padded);
}
const $ZodBase64URL = /*@__PURE__*/ $constructor("$ZodBase64URL", (inst, def) => {
    def.pattern ?? (def.pattern = base64urlCharset);
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (isValidBase64URL(payload.value))
            return;
        payload.issues.push({
            code: "invalid_format",
            format: "base64url",
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodE164 = /*@__PURE__*/ $constructor("$ZodE164", (inst, def) => {
    def.pattern ?? (def.pattern = e164);
    $ZodStringFormat.init(inst, def);
});
//////////////////////////////   ZodJWT   //////////////////////////////
function isValidJWT(token, algorithm = null) {
    try {
        const tokensParts = token.split(".");
        if (tokensParts.length !== 3)
            return false;
        const [header] = tokensParts;
        if (!header)
            return false;
        // @ts-ignore
        const parsedHeader = JSON.parse(atob(header));
        if ("typ" in parsedHeader && parsedHeader?.typ !== "JWT")
            return false;
        if (!parsedHeader.alg)
            return false;
        if (algorithm && (!("alg" in parsedHeader) || parsedHeader.alg !== algorithm))
            return false;
        return true;
    }
    catch {
        return false;
    }
}
const $ZodJWT = /*@__PURE__*/ $constructor("$ZodJWT", (inst, def) => {
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (isValidJWT(payload.value, def.alg))
            return;
        payload.issues.push({
            code: "invalid_format",
            format: "jwt",
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodNumber = /*@__PURE__*/ $constructor("$ZodNumber", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.pattern = number$1;
    inst._zod.parse = (payload, _ctx) => {
        if (def.coerce)
            try {
                payload.value = Number(payload.value);
            }
            catch (_) { }
        const input = payload.value;
        if (typeof input === "number" && !Number.isNaN(input) && Number.isFinite(input)) {
            return payload;
        }
        const received = typeof input === "number"
            ? Number.isNaN(input)
                ? "NaN"
                : !Number.isFinite(input)
                    ? String(input)
                    : undefined
            : undefined;
        payload.issues.push({
            expected: "number",
            code: "invalid_type",
            input,
            inst,
            ...(received ? { received } : {}),
        });
        return payload;
    };
});
const $ZodNumberFormat = /*@__PURE__*/ $constructor("$ZodNumberFormat", (inst, def) => {
    $ZodCheckNumberFormat.init(inst, def);
    $ZodNumber.init(inst, def); // no format checks
});
const $ZodBoolean = /*@__PURE__*/ $constructor("$ZodBoolean", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.pattern = boolean$1;
    inst._zod.parse = (payload, _ctx) => {
        if (def.coerce)
            try {
                payload.value = Boolean(payload.value);
            }
            catch (_) { }
        const input = payload.value;
        if (typeof input === "boolean")
            return payload;
        payload.issues.push({
            expected: "boolean",
            code: "invalid_type",
            input,
            inst,
        });
        return payload;
    };
});
const $ZodUnknown = /*@__PURE__*/ $constructor("$ZodUnknown", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload) => payload;
});
const $ZodNever = /*@__PURE__*/ $constructor("$ZodNever", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, _ctx) => {
        payload.issues.push({
            expected: "never",
            code: "invalid_type",
            input: payload.value,
            inst,
        });
        return payload;
    };
});
// an oversized container fails its leading size checks before any element is parsed
function capSize(inst, size) {
    const caps = sizeCaps(inst._zod.def.checks);
    if (!caps.length)
        return;
    const cap = Math.min(...caps.map((c) => c[0]));
    const parse = inst._zod.parse;
    inst._zod.parse = (payload, ctx) => {
        const n = size(payload.value);
        if (n > cap && !ctx?.skipChecks && ctx?.direction !== "backward") {
            for (const [max, ch] of sizeCaps(inst._zod.def.checks)) {
                if (n > max && ch._zod.def.when(payload)) {
                    const start = payload.issues.length;
                    ch._zod.check(payload);
                    // the value is still the raw input, so no later check may read it
                    payload.issues[start].continue = false;
                    attachSchema(payload.issues, start, inst);
                    return payload;
                }
            }
        }
        return parse(payload, ctx);
    };
}
const arraySize = (input) => (Array.isArray(input) ? input.length : -1);
function handleArrayResult(result, final, index) {
    if (result.issues.length) {
        final.issues.push(...prefixIssues(index, result.issues));
    }
    final.value[index] = result.value;
}
const $ZodArray = /*@__PURE__*/ $constructor("$ZodArray", (inst, def) => {
    $ZodType.init(inst, def);
    const memo = globalConfig.memoizer;
    memo?.attach(inst);
    inst._zod.parse = (payload, ctx) => {
        const input = payload.value;
        if (!Array.isArray(input)) {
            payload.issues.push({
                expected: "array",
                code: "invalid_type",
                input,
                inst,
            });
            return payload;
        }
        payload.value = memo ? memo.alloc(inst, payload, Array(input.length), ctx) : Array(input.length);
        const proms = [];
        const abortEarly = ctx?.abortEarly;
        for (let i = 0; i < input.length; i++) {
            const item = input[i];
            const result = def.element._zod.run({
                value: item,
                issues: [],
            }, ctx);
            if (result instanceof Promise) {
                proms.push(result.then((result) => handleArrayResult(result, payload, i)));
            }
            else {
                handleArrayResult(result, payload, i);
                // the element's payload is authoritative here, since handleArrayResult forwards every issue; an object's is not, because it drops a failed absent optional
                if (abortEarly && result.issues.length !== 0 && aborted(result))
                    break;
            }
        }
        if (proms.length) {
            return Promise.all(proms).then(() => payload);
        }
        return payload; //handleArrayResultsAsync(parseResults, final);
    };
    capSize(inst, arraySize);
});
function handlePropertyResult(result, final, key, input, optin, optout) {
    const isPresent = key in input;
    const isOptionalOut = optout === "optional";
    // The middle rung means "absence permitted, nothing supplied in its place", so an absent key contributes nothing — whatever the schema made of `undefined` is invented, not substituted. Only `optional` reaches this with a value: `defaulted` substitutes, and a schema that isn't optional-out has to keep the key.
    if (!isPresent && isOptionalOut && optin === "optional") {
        return;
    }
    if (result.issues.length) {
        // For optional-in/out schemas, ignore errors on absent keys.
        if (optin !== undefined && isOptionalOut && !isPresent) {
            return;
        }
        final.issues.push(...prefixIssues(key, result.issues));
    }
    if (!isPresent && optin === undefined) {
        if (!result.issues.length) {
            final.issues.push({
                code: "invalid_type",
                expected: "nonoptional",
                input: undefined,
                path: [key],
            });
        }
        return;
    }
    if (result.value === undefined) {
        if (isPresent || (optin === "defaulted" && !isOptionalOut)) {
            final.value[key] = undefined;
        }
    }
    else {
        final.value[key] = result.value;
    }
}
// one shared instance; a fresh [] per schema cost 56 bytes retained
const NO_SYMBOL_KEYS = [];
function normalizeDef(def) {
    const keys = Object.keys(def.shape);
    const ownSymbols = Object.getOwnPropertySymbols(def.shape);
    const symbolKeys = ownSymbols.length ? ownSymbols : NO_SYMBOL_KEYS;
    // aliases `keys` when there are no symbols, so a string-only shape keeps one array
    const allKeys = symbolKeys.length ? [...keys, ...symbolKeys] : keys;
    for (const k of allKeys) {
        if (!def.shape?.[k]?._zod?.traits?.has("$ZodType")) {
            throw new Error(`Invalid element at key "${String(k)}": expected a Zod schema`);
        }
    }
    const okeys = optionalKeys(def.shape);
    return {
        ...def,
        allKeys,
        symbolKeys,
        // string-only: handleCatchall matches it against `for...in`, which never yields a symbol
        keySet: new Set(keys),
        numKeys: keys.length,
        optionalKeys: new Set(okeys),
    };
}
function handleCatchall(proms, input, payload, ctx, def, inst, abortEarly) {
    const unrecognized = [];
    const keySet = def.keySet;
    const _catchall = def.catchall._zod;
    const t = _catchall.def.type;
    const optin = _catchall.optin;
    const optout = _catchall.optout;
    // starts at 0, not the current length: the shape phase already ran and may have aborted
    let seen = 0;
    for (const key in input) {
        if (abortEarly && payload.issues.length !== seen) {
            if (aborted(payload, seen))
                break;
            seen = payload.issues.length;
        }
        // Must precede the __proto__ branch: a declared key is not unrecognized, even though the shape loop deliberately strips __proto__ from the parsed output.
        if (keySet.has(key))
            continue;
        // Don't copy an undeclared __proto__ into the result; assignment to a plain {} would replace the result prototype. But in strict mode it is still an unknown key, so report it before skipping.
        if (key === "__proto__") {
            if (t === "never")
                unrecognized.push(key);
            continue;
        }
        if (t === "never") {
            unrecognized.push(key);
            continue;
        }
        const r = _catchall.run({ value: input[key], issues: [] }, ctx);
        if (r instanceof Promise) {
            proms.push(r.then((r) => handlePropertyResult(r, payload, key, input, optin, optout)));
        }
        else {
            handlePropertyResult(r, payload, key, input, optin, optout);
        }
    }
    if (unrecognized.length) {
        payload.issues.push({
            code: "unrecognized_keys",
            keys: unrecognized,
            input,
            inst,
            // Describes the shape of the input, not the validity of the parsed value, so it never aborts. The parse still fails; the schema's own checks just get to run first, and an enclosing intersection can reconcile the key against a sibling operand.
            continue: true,
        });
    }
    if (!proms.length)
        return payload;
    return Promise.all(proms).then(() => {
        return payload;
    });
}
const $ZodObject = /*@__PURE__*/ $constructor("$ZodObject", (inst, def) => {
    // requires cast because technically $ZodObject doesn't extend
    $ZodType.init(inst, def);
    const desc = Object.getOwnPropertyDescriptor(def, "shape");
    // a cloned def carries its source's accessor, which knows the shape it answers from; adopting that keeps the clone's keys readable without running it
    const sh = desc?.get ? desc.get.raw : (def.shape ?? {});
    if (sh) {
        // Freezes the shape on first read, so its getters resolve once and every later read sees the same schemas.
        const get = () => {
            const newSh = { ...sh };
            Object.defineProperty(def, "shape", { value: newSh });
            get.raw = newSh;
            return newSh;
        };
        get.raw = sh;
        Object.defineProperty(def, "shape", { get });
    }
    const _normalized = cached(() => normalizeDef(def));
    defineLazyInternal(inst, "propValues", (zod) => {
        const shape = zod.def.shape;
        const propValues = {};
        for (const key in shape) {
            const field = shape[key]._zod;
            if (field.values) {
                if (!Object.prototype.hasOwnProperty.call(propValues, key)) {
                    assignProp(propValues, key, new Set());
                }
                for (const v of field.values)
                    propValues[key].add(v);
                // An omittable slot reads back as undefined at a discriminator lookup, so it has to claim undefined: two options that can both omit the key are not discriminable on it.
                if (field.optin !== undefined)
                    propValues[key].add(undefined);
            }
        }
        return propValues;
    });
    const isObject$1 = isObject;
    const catchall = def.catchall;
    let value;
    const memo = globalConfig.memoizer;
    memo?.attach(inst);
    inst._zod.parse = (payload, ctx) => {
        value ?? (value = _normalized.value);
        const input = payload.value;
        if (!isObject$1(input)) {
            payload.issues.push({
                expected: "object",
                code: "invalid_type",
                input,
                inst,
            });
            return payload;
        }
        payload.value = memo ? memo.alloc(inst, payload, {}, ctx) : {};
        const proms = [];
        const shape = value.shape;
        const abortEarly = ctx?.abortEarly;
        let seen = payload.issues.length;
        for (const key of value.allKeys) {
            if (abortEarly && payload.issues.length !== seen) {
                if (aborted(payload, seen))
                    break;
                seen = payload.issues.length;
            }
            if (key === "__proto__")
                continue;
            const el = shape[key];
            const optin = el._zod.optin;
            const optout = el._zod.optout;
            const r = el._zod.run({ value: input[key], issues: [] }, ctx);
            if (r instanceof Promise) {
                proms.push(r.then((r) => handlePropertyResult(r, payload, key, input, optin, optout)));
            }
            else {
                handlePropertyResult(r, payload, key, input, optin, optout);
            }
        }
        if (!catchall) {
            return proms.length ? Promise.all(proms).then(() => payload) : payload;
        }
        return handleCatchall(proms, input, payload, ctx, _normalized.value, inst, abortEarly === true);
    };
});
const $ZodObjectJIT = /*@__PURE__*/ $constructor("$ZodObjectJIT", (inst, def) => {
    // requires cast because technically $ZodObject doesn't extend
    $ZodObject.init(inst, def);
    const superParse = inst._zod.parse;
    const _normalized = cached(() => normalizeDef(def));
    const memo = globalConfig.memoizer;
    const generateFastpass = (shape) => {
        const normalized = _normalized.value;
        const syms = normalized.symbolKeys;
        // a symbol has no source literal, so it is read as `syms[i]` off the closed-over scope
        const doc = new Doc(["payload", "ctx"], { shape, inst, memo, syms });
        const parseStr = (k) => `shape[${k}]._zod.run({ value: input[${k}], issues: [] }, ctx)`;
        // prefixes in place, like util.prefixIssues. newResult must land before the early return: a catchall runs after this and would otherwise write onto the caller's input
        const prefixStr = (id, k) => `
          let ${id}_ab = false;
          for (let i = 0; i < ${id}.issues.length; i++) {
            const iss = ${id}.issues[i];
            iss.path = iss.path ? [${k}, ...iss.path] : [${k}];
            payload.issues.push(iss);
            if (iss.continue !== true) ${id}_ab = true;
          }
          if (${id}_ab && ctx && ctx.abortEarly) {
            payload.value = newResult;
            return payload;
          }`;
        doc.write(`const input = payload.value;`);
        const ids = Object.create(null);
        let counter = 0;
        for (const key of normalized.allKeys) {
            ids[key] = `key_${counter++}`;
        }
        // A: preserve key order {
        doc.write(memo ? `const newResult = memo.alloc(inst, payload, {}, ctx);` : `const newResult = {};`);
        for (const key of normalized.allKeys) {
            if (key === "__proto__")
                continue;
            const id = ids[key];
            const k = typeof key === "symbol" ? `syms[${syms.indexOf(key)}]` : esc(key);
            const isPresent = `${k} in input`;
            const schema = shape[key];
            const optin = schema?._zod?.optin;
            const isOptionalIn = optin !== undefined;
            const isOptionalOut = schema?._zod?.optout === "optional";
            doc.write(`const ${id} = ${parseStr(k)};`);
            if (isOptionalIn && isOptionalOut) {
                // For optional-in/out schemas, ignore errors on absent keys — and, like the interpreted path, drop the value produced alongside them. The middle rung goes further: it permits absence without supplying anything in its place, so an absent key contributes nothing at all.
                const assign = optin === "optional" ? `${id}_present` : `${id}.value !== undefined || ${id}_present`;
                doc.write(`
        const ${id}_present = ${isPresent};
        if (!${id}.issues.length || ${id}_present) {
          if (${id}.issues.length) {${prefixStr(id, k)}
          }

          if (${assign}) {
            newResult[${k}] = ${id}.value;
          }
        }

      `);
            }
            else if (!isOptionalIn) {
                doc.write(`
        const ${id}_present = ${isPresent};
        if (${id}.issues.length) {${prefixStr(id, k)}
        }
        if (!${id}_present && !${id}.issues.length) {
          payload.issues.push({
            code: "invalid_type",
            expected: "nonoptional",
            input: undefined,
            path: [${k}]
          });
          if (ctx && ctx.abortEarly) {
            payload.value = newResult;
            return payload;
          }
        }

        if (${id}_present) {
          newResult[${k}] = ${id}.value;
        }

      `);
            }
            else {
                doc.write(`
        if (${id}.issues.length) {${prefixStr(id, k)}
        }
      `);
                if (optin === "defaulted") {
                    doc.write(`newResult[${k}] = ${id}.value;`);
                }
                else {
                    doc.write(`
        if (${id}.value !== undefined || ${isPresent}) {
          newResult[${k}] = ${id}.value;
        }
      `);
                }
            }
        }
        doc.write(`payload.value = newResult;`);
        doc.write(`return payload;`);
        // closing `shape` in is what pays: turbofan specializes the parser against that one shape object, so every `shape[k]._zod.run` folds to a known callee. as a parameter it stays a generic load and measures 13% slower even with the forwarding frame gone
        return doc.compile();
    };
    let fastpass;
    const isObject$1 = isObject;
    const jit = !globalConfig.jitless;
    const allowsEval$1 = allowsEval;
    const fastEnabled = jit && allowsEval$1.value; // && !def.catchall;
    const catchall = def.catchall;
    let value;
    inst._zod.parse = (payload, ctx) => {
        value ?? (value = _normalized.value);
        const input = payload.value;
        if (!isObject$1(input)) {
            payload.issues.push({
                expected: "object",
                code: "invalid_type",
                input,
                inst,
            });
            return payload;
        }
        if (jit && fastEnabled && ctx?.async === false && ctx.jitless !== true) {
            // always synchronous
            if (!fastpass)
                fastpass = generateFastpass(def.shape);
            payload = fastpass(payload, ctx);
            if (!catchall)
                return payload;
            return handleCatchall([], input, payload, ctx, value, inst, ctx?.abortEarly === true);
        }
        return superParse(payload, ctx);
    };
});
function handleUnionResults(results, final, inst, ctx) {
    for (const result of results) {
        if (result.issues.length === 0) {
            final.value = result.value;
            return final;
        }
    }
    const nonaborted = results.filter((r) => !aborted(r));
    if (nonaborted.length === 1) {
        final.value = nonaborted[0].value;
        return nonaborted[0];
    }
    final.issues.push({
        code: "invalid_union",
        input: final.value,
        inst,
        errors: results.map((result) => result.issues.map((iss) => finalizeIssue(iss, ctx, config()))),
    });
    return final;
}
const $ZodUnion = /*@__PURE__*/ $constructor("$ZodUnion", (inst, def) => {
    $ZodType.init(inst, def);
    defineLazyInternal(inst, "optin", (zod) => zod.def.options.some((o) => o._zod.optin === "defaulted")
        ? "defaulted"
        : zod.def.options.some((o) => o._zod.optin !== undefined)
            ? "optional"
            : undefined);
    defineLazyInternal(inst, "optout", (zod) => zod.def.options.some((o) => o._zod.optout === "optional") ? "optional" : undefined);
    defineLazyInternal(inst, "values", (zod) => {
        if (zod.def.options.every((o) => o._zod.values)) {
            return new Set(zod.def.options.flatMap((option) => Array.from(option._zod.values)));
        }
        return undefined;
    });
    defineLazyInternal(inst, "pattern", (zod) => {
        if (zod.def.options.every((o) => o._zod.pattern)) {
            const patterns = zod.def.options.map((o) => o._zod.pattern);
            return new RegExp(`^(${patterns.map((p) => cleanRegex(p.source)).join("|")})$`);
        }
        return undefined;
    });
    const first = def.options.length === 1 ? def.options[0]._zod.run : null;
    inst._zod.parse = (payload, ctx) => {
        if (first) {
            return first(payload, ctx);
        }
        let async = false;
        const results = [];
        for (const option of def.options) {
            const result = option._zod.run({
                value: payload.value,
                issues: [],
            }, ctx);
            if (result instanceof Promise) {
                results.push(result);
                async = true;
            }
            else {
                if (result.issues.length === 0)
                    return result;
                results.push(result);
            }
        }
        if (!async)
            return handleUnionResults(results, payload, inst, ctx);
        return Promise.all(results).then((results) => {
            return handleUnionResults(results, payload, inst, ctx);
        });
    };
});
function discriminatorMap(def) {
    const map = new Map();
    for (const option of def.options) {
        const values = option._zod.propValues?.[def.discriminator];
        if (!values || values.size === 0)
            throw new Error(`Invalid discriminated union option at index "${def.options.indexOf(option)}"`);
        for (const value of values) {
            if (map.has(value)) {
                if (value !== undefined)
                    throw new Error(`Duplicate discriminator value "${String(value)}"`);
                // keep the collision marked so a later member cannot reclaim it
                map.set(value, null);
            }
            else {
                map.set(value, option);
            }
        }
    }
    return map;
}
const $ZodDiscriminatedUnion = 
/*@__PURE__*/
$constructor("$ZodDiscriminatedUnion", (inst, def) => {
    def.inclusive = false;
    $ZodUnion.init(inst, def);
    const _super = inst._zod.parse;
    defineLazyInternal(inst, "propValues", (zod) => {
        const propValues = {};
        let undefinedCount = 0;
        for (const option of zod.def.options) {
            const pv = option._zod.propValues;
            if (!pv || Object.keys(pv).length === 0)
                throw new Error(`Invalid discriminated union option at index "${zod.def.options.indexOf(option)}"`);
            if (pv[zod.def.discriminator]?.has(undefined))
                undefinedCount++;
            for (const [k, v] of Object.entries(pv)) {
                if (!Object.prototype.hasOwnProperty.call(propValues, k)) {
                    assignProp(propValues, k, new Set());
                }
                for (const val of v) {
                    propValues[k].add(val);
                }
            }
        }
        if (!zod.def.unionFallback && undefinedCount > 1)
            propValues[zod.def.discriminator]?.delete(undefined);
        return propValues;
    });
    // Checked now rather than in the lookup map below, so an option that lacks the discriminator fails at the `discriminatedUnion` call instead of on the first object parsed. Options whose shape cannot be enumerated without resolving it — pipes and lazies — are left to the map.
    def.options.forEach((option, i) => {
        const propShape = rawShape(option._zod.def);
        if (propShape && !Object.prototype.hasOwnProperty.call(propShape, def.discriminator)) {
            throw new Error(`Invalid discriminated union option at index "${i}"`);
        }
    });
    const disc = cached(() => discriminatorMap(def));
    inst._zod.parse = (payload, ctx) => {
        const input = payload.value;
        if (!isObject(input)) {
            payload.issues.push({
                code: "invalid_type",
                expected: "object",
                input,
                inst,
            });
            return payload;
        }
        const value = input?.[def.discriminator];
        const opt = disc.value.get(value);
        // forward metadata cannot choose an encoder for an absent tag
        if (opt && (value !== undefined || ctx.direction !== "backward")) {
            return opt._zod.run(payload, ctx);
        }
        // Fall back to union matching when the fast discriminator path fails:
        // - explicitly enabled via unionFallback, or
        // - during backward direction (encode), since codec-based discriminators have different values in forward vs backward directions
        if (def.unionFallback || ctx.direction === "backward") {
            return _super(payload, ctx);
        }
        // no matching discriminator
        payload.issues.push({
            code: "invalid_union",
            errors: [],
            note: "No matching discriminator",
            discriminator: def.discriminator,
            options: Array.from(disc.value.keys()).filter((value) => disc.value.get(value) !== null),
            input,
            path: [def.discriminator],
            inst,
        });
        return payload;
    };
});
const $ZodIntersection = /*@__PURE__*/ $constructor("$ZodIntersection", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, ctx) => {
        const input = payload.value;
        const left = def.left._zod.run({ value: input, issues: [] }, ctx);
        const right = def.right._zod.run({ value: input, issues: [] }, ctx);
        const async = left instanceof Promise || right instanceof Promise;
        if (async) {
            return Promise.all([left, right]).then(([left, right]) => {
                return handleIntersectionResults(payload, left, right);
            });
        }
        return handleIntersectionResults(payload, left, right);
    };
});
function mergeValues(a, b) {
    // const aType = parse.t(a);
    // const bType = parse.t(b);
    if (a === b) {
        return { valid: true, data: a };
    }
    if (a instanceof Date && b instanceof Date && +a === +b) {
        return { valid: true, data: a };
    }
    if (isPlainObject(a) && isPlainObject(b)) {
        const bKeys = Object.keys(b);
        const sharedKeys = Object.keys(a).filter((key) => bKeys.indexOf(key) !== -1);
        const newObj = { ...a, ...b };
        if (Object.prototype.hasOwnProperty.call(newObj, "__proto__"))
            delete newObj.__proto__;
        for (const key of sharedKeys) {
            if (key === "__proto__")
                continue;
            const sharedValue = mergeValues(a[key], b[key]);
            if (!sharedValue.valid) {
                return {
                    valid: false,
                    mergeErrorPath: [key, ...sharedValue.mergeErrorPath],
                };
            }
            newObj[key] = sharedValue.data;
        }
        return { valid: true, data: newObj };
    }
    if (Array.isArray(a) && Array.isArray(b)) {
        if (a.length !== b.length) {
            return { valid: false, mergeErrorPath: [] };
        }
        const newArray = [];
        for (let index = 0; index < a.length; index++) {
            const itemA = a[index];
            const itemB = b[index];
            const sharedValue = mergeValues(itemA, itemB);
            if (!sharedValue.valid) {
                return {
                    valid: false,
                    mergeErrorPath: [index, ...sharedValue.mergeErrorPath],
                };
            }
            newArray.push(sharedValue.data);
        }
        return { valid: true, data: newArray };
    }
    return { valid: false, mergeErrorPath: [] };
}
function handleIntersectionResults(result, left, right) {
    // Track which side(s) reject each key. A key rejection is reported only when BOTH sides reject it, so a key owned by one branch survives the other's key schema. strictObject reports these as unrecognized_keys; a record with an open key schema reports one invalid_key per key.
    const unrecKeys = new Map();
    let unrecIssue;
    const keyIssues = new Map();
    const collect = (iss, side) => {
        let keys;
        if (iss.code === "unrecognized_keys" && !iss.path?.length) {
            unrecIssue ?? (unrecIssue = iss);
            keys = iss.keys;
        }
        else if (iss.code === "invalid_key" && iss.origin === "record" && iss.path?.length === 1) {
            const k = String(iss.path[0]);
            if (!keyIssues.has(k))
                keyIssues.set(k, iss);
            keys = [k];
        }
        else {
            return false;
        }
        for (const k of keys) {
            if (!unrecKeys.has(k))
                unrecKeys.set(k, {});
            unrecKeys.get(k)[side] = true;
        }
        return true;
    };
    for (const iss of left.issues) {
        if (!collect(iss, "l"))
            result.issues.push(iss);
    }
    for (const iss of right.issues) {
        if (!collect(iss, "r"))
            result.issues.push(iss);
    }
    // Report only keys rejected by BOTH sides
    const bothKeys = [...unrecKeys].filter(([, f]) => f.l && f.r).map(([k]) => k);
    if (bothKeys.length) {
        const aggregated = unrecIssue ? bothKeys.filter((k) => unrecIssue.keys.includes(k)) : [];
        if (aggregated.length)
            result.issues.push({ ...unrecIssue, keys: aggregated });
        for (const k of bothKeys) {
            if (!aggregated.includes(k) && keyIssues.has(k))
                result.issues.push(keyIssues.get(k));
        }
    }
    const merged = mergeValues(left.value, right.value);
    if (!merged.valid) {
        if (aborted(result))
            return result;
        throw new Error(`Unmergable intersection. Error path: ` + `${JSON.stringify(merged.mergeErrorPath)}`);
    }
    result.value = merged.data;
    return result;
}
const $ZodRecord = /*@__PURE__*/ $constructor("$ZodRecord", (inst, def) => {
    $ZodType.init(inst, def);
    const memo = globalConfig.memoizer;
    memo?.attach(inst);
    inst._zod.parse = (payload, ctx) => {
        const input = payload.value;
        if (!isPlainObject(input)) {
            payload.issues.push({
                expected: "record",
                code: "invalid_type",
                input,
                inst,
            });
            return payload;
        }
        // no guard in either loop below: a record's invalid_key aborts but an enclosing intersection can reconcile it, so a stopped loop hides keys the sibling does not own and the intersection then rejects nothing
        const proms = [];
        const values = def.keyType._zod.values;
        if (values && !def.partial) {
            payload.value = memo ? memo.alloc(inst, payload, {}, ctx) : {};
            const recordKeys = new Set();
            for (const key of values) {
                if (typeof key === "string" || typeof key === "number" || typeof key === "symbol") {
                    recordKeys.add(typeof key === "number" ? key.toString() : key);
                    // A declared __proto__ is stripped but is not an unrecognized key.
                    if (key === "__proto__")
                        continue;
                    const keyResult = def.keyType._zod.run({ value: key, issues: [] }, ctx);
                    if (keyResult instanceof Promise) {
                        throw new Error("Async schemas not supported in object keys currently");
                    }
                    if (keyResult.issues.length) {
                        payload.issues.push({
                            code: "invalid_key",
                            origin: "record",
                            issues: keyResult.issues.map((iss) => finalizeIssue(iss, ctx, config())),
                            input: key,
                            path: [key],
                            inst,
                        });
                        continue;
                    }
                    const outKey = keyResult.value;
                    if (outKey === "__proto__")
                        continue;
                    const result = def.valueType._zod.run({ value: input[key], issues: [] }, ctx);
                    if (result instanceof Promise) {
                        proms.push(result.then((result) => {
                            if (result.issues.length) {
                                payload.issues.push(...prefixIssues(key, result.issues));
                            }
                            payload.value[outKey] = result.value;
                        }));
                    }
                    else {
                        if (result.issues.length) {
                            payload.issues.push(...prefixIssues(key, result.issues));
                        }
                        payload.value[outKey] = result.value;
                    }
                }
            }
            let unrecognized;
            for (const key in input) {
                if (!recordKeys.has(key)) {
                    if (def.mode === "loose") {
                        // skip __proto__ so it can't replace the result prototype via the assignment setter on the plain {} we build into
                        if (key === "__proto__")
                            continue;
                        payload.value[key] = input[key];
                    }
                    else {
                        unrecognized = unrecognized ?? [];
                        unrecognized.push(key);
                    }
                }
            }
            if (unrecognized && unrecognized.length > 0) {
                payload.issues.push({
                    code: "unrecognized_keys",
                    input,
                    inst,
                    keys: unrecognized,
                    continue: true,
                });
            }
        }
        else {
            payload.value = memo ? memo.alloc(inst, payload, {}, ctx) : {};
            // An enumerable key schema declares which keys the record owns, so a key outside the set is unrecognized. A non-enumerable one (regex, refine) is a constraint every key must satisfy, so a failing key is invalid. Only the former is reconcilable against the other side of an intersection.
            let unrecognized;
            // Reflect.ownKeys for Symbol-key support; filter non-enumerable to match z.object()
            for (const key of Reflect.ownKeys(input)) {
                if (key === "__proto__")
                    continue;
                if (!Object.prototype.propertyIsEnumerable.call(input, key))
                    continue;
                let keyResult = def.keyType._zod.run({ value: key, issues: [] }, ctx);
                if (keyResult instanceof Promise) {
                    throw new Error("Async schemas not supported in object keys currently");
                }
                // Numeric string fallback: if key is a numeric string and failed, retry with Number(key). This handles z.number(), z.literal([1, 2, 3]), and unions containing numeric literals
                const checkNumericKey = typeof key === "string" && number$1.test(key) && keyResult.issues.length;
                if (checkNumericKey) {
                    const retryResult = def.keyType._zod.run({ value: Number(key), issues: [] }, ctx);
                    if (retryResult instanceof Promise) {
                        throw new Error("Async schemas not supported in object keys currently");
                    }
                    if (retryResult.issues.length === 0) {
                        keyResult = retryResult;
                    }
                }
                if (keyResult.issues.length) {
                    if (def.mode === "loose") {
                        // Pass through unchanged
                        payload.value[key] = input[key];
                    }
                    else if (values) {
                        unrecognized = unrecognized ?? [];
                        unrecognized.push(key);
                    }
                    else {
                        // Default "strict" behavior: error on invalid key
                        payload.issues.push({
                            code: "invalid_key",
                            origin: "record",
                            issues: keyResult.issues.map((iss) => finalizeIssue(iss, ctx, config())),
                            input: key,
                            path: [key],
                            inst,
                        });
                    }
                    continue;
                }
                // the guard above tests the raw input key, but the key schema can normalize an ordinary key into __proto__; re-check the key we actually write under
                const outKey = keyResult.value;
                if (outKey === "__proto__")
                    continue;
                const result = def.valueType._zod.run({ value: input[key], issues: [] }, ctx);
                if (result instanceof Promise) {
                    proms.push(result.then((result) => {
                        if (result.issues.length) {
                            payload.issues.push(...prefixIssues(key, result.issues));
                        }
                        payload.value[outKey] = result.value;
                    }));
                }
                else {
                    if (result.issues.length) {
                        payload.issues.push(...prefixIssues(key, result.issues));
                    }
                    payload.value[outKey] = result.value;
                }
            }
            if (unrecognized && unrecognized.length > 0) {
                payload.issues.push({
                    code: "unrecognized_keys",
                    input,
                    inst,
                    keys: unrecognized,
                    continue: true,
                });
            }
        }
        if (proms.length) {
            return Promise.all(proms).then(() => payload);
        }
        return payload;
    };
});
const $ZodEnum = /*@__PURE__*/ $constructor("$ZodEnum", (inst, def) => {
    $ZodType.init(inst, def);
    const values = getEnumValues(def.entries);
    const valuesSet = new Set(values);
    inst._zod.values = valuesSet;
    defineLazyInternal(inst, "pattern", (zod) => {
        const patternValues = getEnumValues(zod.def.entries).filter((k) => propertyKeyTypes.has(typeof k));
        // unmatchable fallback, RE2-safe: an empty alternation would compile to /^()$/, which matches ""
        return new RegExp(patternValues.length ? `^(${patternValues.map((o) => escapeRegex(o.toString())).join("|")})$` : "^[^\\s\\S]$");
    });
    inst._zod.parse = (payload, _ctx) => {
        const input = payload.value;
        if (valuesSet.has(input)) {
            return payload;
        }
        payload.issues.push({
            code: "invalid_value",
            values,
            input,
            inst,
        });
        return payload;
    };
});
const $ZodLiteral = /*@__PURE__*/ $constructor("$ZodLiteral", (inst, def) => {
    $ZodType.init(inst, def);
    const values = new Set(def.values);
    inst._zod.values = values;
    defineLazyInternal(inst, "pattern", (zod) => {
        const vals = zod.def.values;
        // unmatchable fallback, RE2-safe: an empty alternation would compile to /^()$/, which matches ""
        return new RegExp(vals.length
            ? `^(${vals
                .map((o) => typeof o === "string" ? escapeRegex(o) : o ? escapeRegex(o.toString()) : String(o))
                .join("|")})$`
            : "^[^\\s\\S]$");
    });
    inst._zod.parse = (payload, _ctx) => {
        const input = payload.value;
        if (values.has(input)) {
            return payload;
        }
        payload.issues.push({
            code: "invalid_value",
            values: def.values,
            input,
            inst,
        });
        return payload;
    };
});
const $ZodTransform = /*@__PURE__*/ $constructor("$ZodTransform", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.optin = "optional";
    globalConfig.memoizer?.guard(inst);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            throw new $ZodEncodeError(inst.constructor.name);
        }
        const _out = def.transform(payload.value, payload);
        if (ctx.async) {
            const output = _out instanceof Promise ? _out : Promise.resolve(_out);
            return output.then((output) => {
                payload.value = output;
                return payload;
            });
        }
        if (_out instanceof Promise) {
            throw new $ZodAsyncError();
        }
        payload.value = _out;
        return payload;
    };
});
function handleOptionalResult(payload, result) {
    // A substituting schema that still failed has no usable answer; yield undefined. Its issues are simply dropped: it ran on a payload of its own, so there is no shared array to truncate and nothing of the caller's to lose with it.
    payload.value = result.issues.length ? undefined : result.value;
    return payload;
}
const $ZodOptional = /*@__PURE__*/ $constructor("$ZodOptional", (inst, def) => {
    $ZodType.init(inst, def);
    // .optional() propagates absence rather than substituting for it, so a defaulted inner keeps its rung.
    defineLazyInternal(inst, "optin", (zod) => zod.def.innerType._zod.optin === "defaulted" ? "defaulted" : "optional");
    inst._zod.optout = "optional";
    defineLazyInternal(inst, "values", (zod) => {
        const values = zod.def.innerType._zod.values;
        return values ? new Set([...values, undefined]) : undefined;
    });
    defineLazyInternal(inst, "pattern", (zod) => {
        const pattern = zod.def.innerType._zod.pattern;
        return pattern ? new RegExp(`^(${cleanRegex(pattern.source)})?$`) : undefined;
    });
    inst._zod.parse = (payload, ctx) => {
        if (payload.value === undefined) {
            // Only the top rung substitutes a value for absence; everything else leaves it intact, which is what .optional() means.
            if (def.innerType._zod.optin !== "defaulted")
                return payload;
            // Its own payload, for the same reason $ZodCatch gets one: a pipe forwards an unrecognized key through the caller's issues array, and this must not read that as the substituting schema failing and drop it.
            const result = def.innerType._zod.run({ value: payload.value, issues: [] }, ctx);
            if (result instanceof Promise)
                return result.then((result) => handleOptionalResult(payload, result));
            return handleOptionalResult(payload, result);
        }
        return def.innerType._zod.run(payload, ctx);
    };
});
const $ZodExactOptional = /*@__PURE__*/ $constructor("$ZodExactOptional", (inst, def) => {
    // Call parent init - inherits optin/optout = "optional"
    $ZodOptional.init(inst, def);
    // Override values/pattern to NOT add undefined
    defineLazyInternal(inst, "values", (zod) => zod.def.innerType._zod.values);
    defineLazyInternal(inst, "pattern", (zod) => zod.def.innerType._zod.pattern);
    // Override parse to just delegate (no undefined handling)
    inst._zod.parse = (payload, ctx) => {
        return def.innerType._zod.run(payload, ctx);
    };
});
const $ZodNullable = /*@__PURE__*/ $constructor("$ZodNullable", (inst, def) => {
    $ZodType.init(inst, def);
    defineLazyInternal(inst, "optin", (zod) => zod.def.innerType._zod.optin);
    defineLazyInternal(inst, "optout", (zod) => zod.def.innerType._zod.optout);
    defineLazyInternal(inst, "pattern", (zod) => {
        const pattern = zod.def.innerType._zod.pattern;
        return pattern ? new RegExp(`^(${cleanRegex(pattern.source)}|null)$`) : undefined;
    });
    defineLazyInternal(inst, "values", (zod) => {
        return zod.def.innerType._zod.values ? new Set([...zod.def.innerType._zod.values, null]) : undefined;
    });
    inst._zod.parse = (payload, ctx) => {
        // Forward direction (decode): allow null to pass through
        if (payload.value === null)
            return payload;
        return def.innerType._zod.run(payload, ctx);
    };
});
const $ZodDefault = /*@__PURE__*/ $constructor("$ZodDefault", (inst, def) => {
    $ZodType.init(inst, def);
    // inst._zod.qin = "true";
    inst._zod.optin = "defaulted";
    defineLazyInternal(inst, "values", (zod) => zod.def.innerType._zod.values);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            return def.innerType._zod.run(payload, ctx);
        }
        // Forward direction (decode): apply defaults for undefined input
        if (payload.value === undefined) {
            payload.value = def.defaultValue;
            /**
             * $ZodDefault returns the default value immediately in forward direction.
             * It doesn't pass the default value into the validator ("prefault"). There's no reason to pass the default value through validation. The validity of the default is enforced by TypeScript statically. Otherwise, it's the responsibility of the user to ensure the default is valid. In the case of pipes with divergent in/out types, you can specify the default on the `in` schema of your ZodPipe to set a "prefault" for the pipe.   */
            return payload;
        }
        // Forward direction: continue with default handling
        const result = def.innerType._zod.run(payload, ctx);
        if (result instanceof Promise) {
            return result.then((result) => handleDefaultResult(result, def));
        }
        return handleDefaultResult(result, def);
    };
});
function handleDefaultResult(payload, def) {
    if (payload.value === undefined) {
        payload.value = def.defaultValue;
    }
    return payload;
}
const $ZodPrefault = /*@__PURE__*/ $constructor("$ZodPrefault", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.optin = "defaulted";
    defineLazyInternal(inst, "values", (zod) => zod.def.innerType._zod.values);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            return def.innerType._zod.run(payload, ctx);
        }
        // Forward direction (decode): apply prefault for undefined input
        if (payload.value === undefined) {
            payload.value = def.defaultValue;
        }
        return def.innerType._zod.run(payload, ctx);
    };
});
const $ZodNonOptional = /*@__PURE__*/ $constructor("$ZodNonOptional", (inst, def) => {
    $ZodType.init(inst, def);
    defineLazyInternal(inst, "values", (zod) => {
        const v = zod.def.innerType._zod.values;
        return v ? new Set([...v].filter((x) => x !== undefined)) : undefined;
    });
    inst._zod.parse = (payload, ctx) => {
        const result = def.innerType._zod.run(payload, ctx);
        if (result instanceof Promise) {
            return result.then((result) => handleNonOptionalResult(result, inst));
        }
        return handleNonOptionalResult(result, inst);
    };
});
function handleNonOptionalResult(payload, inst) {
    if (!payload.issues.length && payload.value === undefined) {
        payload.issues.push({
            code: "invalid_type",
            expected: "nonoptional",
            input: payload.value,
            inst,
        });
    }
    return payload;
}
function handleCatchResult(payload, result, def, ctx) {
    if (!result.issues.length) {
        payload.value = result.value;
        // The value carries up, so the flag describing it has to carry with it: a back-edge into a node still being parsed must not be frozen by an enclosing readonly, and its checks belong to the node itself. Guarded so the ordinary case adds no own property.
        if (result.memo)
            payload.memo = true;
        return payload;
    }
    // Spread the inner's own payload, not ours: `value` has to stay the input the catch was handed, and the inner ran on a payload of its own so its issues are already private to this call.
    payload.value = def.catchValue({
        ...result,
        value: payload.value,
        error: {
            issues: result.issues.map((iss) => finalizeIssue(iss, ctx, config())),
        },
        input: payload.value,
    });
    return payload;
}
const $ZodCatch = /*@__PURE__*/ $constructor("$ZodCatch", (inst, def) => {
    $ZodType.init(inst, def);
    defineLazyInternal(inst, "optin", (zod) => zod.def.innerType._zod.optin === "defaulted" ? "defaulted" : "optional");
    defineLazyInternal(inst, "optout", (zod) => zod.def.innerType._zod.optout);
    defineLazyInternal(inst, "values", (zod) => zod.def.innerType._zod.values);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            return def.innerType._zod.run(payload, ctx);
        }
        // Forward direction (decode): apply catch logic
        const result = def.innerType._zod.run({ value: payload.value, issues: [] }, ctx);
        if (result instanceof Promise) {
            return result.then((result) => handleCatchResult(payload, result, def, ctx));
        }
        return handleCatchResult(payload, result, def, ctx);
    };
});
const $ZodPipe = /*@__PURE__*/ $constructor("$ZodPipe", (inst, def) => {
    $ZodType.init(inst, def);
    defineLazyInternal(inst, "values", (zod) => zod.def.in._zod.values);
    defineLazyInternal(inst, "optin", (zod) => zod.def.in._zod.optin);
    defineLazyInternal(inst, "optout", (zod) => zod.def.out._zod.optout);
    defineLazyInternal(inst, "propValues", (zod) => zod.def.in._zod.propValues);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            const right = def.out._zod.run(payload, ctx);
            if (right instanceof Promise) {
                return right.then((right) => handlePipeResult(right, def.in, ctx));
            }
            return handlePipeResult(right, def.in, ctx);
        }
        const left = def.in._zod.run(payload, ctx);
        if (left instanceof Promise) {
            return left.then((left) => handlePipeResult(left, def.out, ctx));
        }
        return handlePipeResult(left, def.out, ctx);
    };
});
function handlePipeResult(left, next, ctx) {
    // Any issue stops the pipe, so a failing refinement never feeds its transform. An unrecognized key is the exception: it describes the input's extra properties, not the value being piped, and an enclosing intersection may yet reconcile it.
    if (left.issues.some((iss) => iss.code !== "unrecognized_keys")) {
        // prevent further checks
        left.aborted = true;
        return left;
    }
    return next._zod.run({ value: left.value, issues: left.issues }, ctx);
}
const $ZodReadonly = /*@__PURE__*/ $constructor("$ZodReadonly", (inst, def) => {
    $ZodType.init(inst, def);
    defineLazyInternal(inst, "propValues", (zod) => zod.def.innerType._zod.propValues);
    defineLazyInternal(inst, "values", (zod) => zod.def.innerType._zod.values);
    defineLazyInternal(inst, "optin", (zod) => zod.def.innerType?._zod?.optin);
    defineLazyInternal(inst, "optout", (zod) => zod.def.innerType?._zod?.optout);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            return def.innerType._zod.run(payload, ctx);
        }
        const result = def.innerType._zod.run(payload, ctx);
        if (result instanceof Promise) {
            return result.then(handleReadonlyResult);
        }
        return handleReadonlyResult(result);
    };
});
function handleReadonlyResult(payload) {
    // A repeat visit hands back a node that is still being built; freezing it here would make the rest of its keys fail to assign.
    if (!payload.memo)
        payload.value = Object.freeze(payload.value);
    return payload;
}
const $ZodCustom = /*@__PURE__*/ $constructor("$ZodCustom", (inst, def) => {
    $ZodCheck.init(inst, def);
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, _) => {
        return payload;
    };
    inst._zod.check = (payload) => {
        const input = payload.value;
        const r = def.fn(input);
        if (r instanceof Promise) {
            return r.then((r) => handleRefineResult(r, payload, input, inst));
        }
        handleRefineResult(r, payload, input, inst);
        return;
    };
});
function handleRefineResult(result, payload, input, inst) {
    if (!result) {
        const _iss = {
            code: "custom",
            input,
            inst, // incorporates params.error into issue reporting
            path: [...(inst._zod.def.path ?? [])], // incorporates params.error into issue reporting
            continue: !inst._zod.def.abort,
            // params: inst._zod.def.params,
        };
        if (inst._zod.def.params)
            _iss.params = inst._zod.def.params;
        payload.issues.push(issue(_iss));
    }
}

class $ZodCyclicError extends Error {
    constructor() {
        super(`Cannot parse a reference cycle that closes through a transform`);
        this.name = "ZodCyclicError";
    }
}
/** Keyed off the context object every schema in one parse call already shares. */
const STATE = "~memo";
const NO_ISSUES = [];
// a value a cycle can close through
function isRef(value) {
    return value !== null && typeof value === "object";
}
// Receivers prefix paths in place, so the cache and every hand-out need their own copies.
function cloneIssues(issues) {
    return issues.map((iss) => (iss.path ? { ...iss, path: iss.path.slice() } : { ...iss }));
}
const recursive = /*@__PURE__*/ new WeakMap();
/** What the walk established, in order of certainty: ordered so the strongest answer among children wins. */
const NONE = 0;
const ASSUMED = 1;
const PROVEN = 2;
/** Whether this schema's subtree contains a cycle, so one parse can re-enter it. */
function isRecursive(inst, stack, resolve) {
    const cached = recursive.get(inst);
    if (cached !== undefined)
        return cached ? PROVEN : NONE;
    // Relative to the walk in progress, so not cached.
    if (stack.has(inst))
        return PROVEN;
    stack.add(inst);
    let result = NONE;
    const check = (child) => {
        if (result !== PROVEN && child?._zod) {
            const answer = isRecursive(child, stack);
            if (answer > result)
                result = answer;
        }
    };
    // `Reflect.ownKeys` rather than `Object.keys`, so a cycle through a declared symbol key is still seen
    const shape = (sh, spread) => {
        let answer = NONE;
        for (const key of Reflect.ownKeys(sh)) {
            const desc = Object.getOwnPropertyDescriptor(sh, key);
            // an object resolves its shape by spread, so a key it does not enumerate is never parsed; `z.properties` reads every own key and so keeps them all
            if (!desc.enumerable)
                continue;
            // resolving runs user code, and a factory mints a fresh subtree per read, so an edge the walk can't follow counts as a cycle
            const child = desc.get ? ASSUMED : desc.value?._zod ? isRecursive(desc.value, stack) : NONE;
            if (child > answer)
                answer = child;
        }
        return answer;
    };
    const merge = (answer) => {
        if (answer > result)
            result = answer;
    };
    const def = inst._zod.def;
    const kind = def.type;
    switch (kind) {
        case "object": {
            const raw = rawShape(def);
            // a def with no raw shape answers `shape` from an accessor of its own, and running that can mint a whole fresh subtree
            merge(raw ? shape(raw) : ASSUMED);
            check(def.catchall);
            break;
        }
        case "array":
            check(def.element);
            break;
        case "tuple":
            for (const el of def.items)
                check(el);
            check(def.rest);
            break;
        case "record":
        case "map":
            check(def.keyType);
            check(def.valueType);
            break;
        case "set":
            check(def.valueType);
            break;
        case "union":
            for (const el of def.options)
                check(el);
            break;
        case "intersection":
            check(def.left);
            check(def.right);
            break;
        case "optional":
        case "nullable":
        case "default":
        case "prefault":
        case "catch":
        case "readonly":
        case "nonoptional":
        case "promise":
        case "success":
            check(def.innerType);
            break;
        case "pipe":
            check(def.in);
            check(def.out);
            break;
        case "function":
            check(def.input);
            check(def.output);
            break;
        // `$ZodLazy` caches its inner on the def, so a resolved edge is followed exactly
        case "lazy": {
            const inner = def._cachedInner ?? (undefined);
            // walked with resolution off: one hop sees past the deferral, and a lazy that yields only another unresolved lazy is generative, so it stops there
            merge(inner ? isRecursive(inner, stack) : ASSUMED);
            break;
        }
        // a leaf by choice: `parts` are regex fragments, not data positions
        case "template_literal":
        // leaves
        case "string":
        case "number":
        case "int":
        case "boolean":
        case "bigint":
        case "symbol":
        case "undefined":
        case "null":
        case "void":
        case "never":
        case "any":
        case "unknown":
        case "date":
        case "nan":
        case "enum":
        case "literal":
        case "file":
        case "transform":
        case "custom":
            break;
        default: {
            // a user-defined kind can still hold children, and only its author knows where, so fall back to scanning the def — skipping accessors, since reading one can run user code
            for (const key in def) {
                const desc = Object.getOwnPropertyDescriptor(def, key);
                if (!desc || desc.get)
                    continue;
                const value = desc.value;
                if (!value || typeof value !== "object")
                    continue;
                if (value._zod)
                    check(value);
                else if (Array.isArray(value))
                    for (const el of value)
                        check(el);
            }
        }
    }
    stack.delete(inst);
    return settle(inst, result);
}
/** An assumed answer must not outlive the resolution that settles it, so only a certain one is cached. */
function settle(inst, answer) {
    if (answer !== ASSUMED)
        recursive.set(inst, answer === PROVEN);
    return answer;
}
function bucketFor(state, inst) {
    let bucket = state.buckets.get(inst);
    if (!bucket) {
        bucket = new WeakMap();
        state.buckets.set(inst, bucket);
    }
    return bucket;
}
// Set immediately before delegating to core and cleared immediately after, so `alloc` registers only for a visit this module is driving.
let handoff;
// Allocated but unfinished entries. `alloc` and the matching pop both happen in the synchronous part of a parse, so they nest even when children are async, and one stack serves every schema.
const open = [];
const memo = {
    alloc(_inst, payload, empty) {
        const bucket = handoff;
        if (!bucket)
            return empty;
        handoff = undefined;
        const entry = { value: empty, issues: null };
        bucket.set(payload.value, entry);
        open.push(entry);
        return empty;
    },
    guard(inst) {
        var _a;
        (_a = inst._zod).deferred ?? (_a.deferred = []);
        inst._zod.deferred.push(() => {
            const base = inst._zod.parse;
            const wrapped = (payload, ctx) => {
                // The value is a placeholder a back-edge is still waiting on, so the cycle closes through this transform. Its output can't exist in time to bind.
                if (ctx.direction !== "backward" && isBackEdge(ctx, payload.value))
                    throw new $ZodCyclicError();
                return base(payload, ctx);
            };
            inst._zod.parse = wrapped;
            if (inst._zod.run === base)
                inst._zod.run = wrapped;
        });
    },
    attach(inst) {
        var _a;
        let isRecursiveInst;
        let rechecked = false;
        // a recursive schema is re-entered many times per parse and its bucket never changes
        let lastCtx;
        let lastBucket;
        // Wraps `parse` in a deferred so it sees the container's final parse. Core's own deferred copies `parse` into `run` when there are no checks, and it ran first, so `run` is patched to match; with checks, `run` reads `parse` dynamically.
        (_a = inst._zod).deferred ?? (_a.deferred = []);
        inst._zod.deferred.push(() => {
            const base = inst._zod.parse;
            const wrapped = (payload, ctx) => {
                if (isRecursiveInst === undefined) {
                    const walked = isRecursive(inst, new Set());
                    if (walked === NONE) {
                        // Nothing here can ever fire, so take it back out.
                        inst._zod.parse = base;
                        if (inst._zod.run === wrapped)
                            inst._zod.run = base;
                        return base(payload, ctx);
                    }
                    // this parse resolves the deferred edges on its own path, so ask once more before latching
                    if (walked === PROVEN || rechecked)
                        isRecursiveInst = true;
                    else
                        rechecked = true;
                }
                const input = payload.value;
                if (!isRef(input))
                    return base(payload, ctx);
                let state = ctx[STATE];
                if (!state) {
                    state = { buckets: new WeakMap(), backEdges: undefined };
                    ctx[STATE] = state;
                }
                let bucket;
                if (lastCtx === ctx) {
                    bucket = lastBucket;
                }
                else {
                    bucket = bucketFor(state, inst);
                    lastCtx = ctx;
                    lastBucket = bucket;
                }
                const hit = bucket.get(input);
                if (hit) {
                    payload.value = hit.value;
                    if (hit.issues) {
                        if (hit.issues.length)
                            payload.issues.push(...cloneIssues(hit.issues));
                    }
                    else {
                        // Still being parsed: its own checks cover it, so skip them here.
                        payload.memo = true;
                        state.backEdges ?? (state.backEdges = new WeakSet());
                        state.backEdges.add(hit.value);
                    }
                    return payload;
                }
                handoff = bucket;
                const depth = open.length;
                const result = base(payload, ctx);
                handoff = undefined;
                // A container that rejected its input outright allocated nothing.
                const entry = open.length > depth ? open.pop() : undefined;
                // Both paths written out so the sync one allocates no closure. It runs once per node, and capturing here cost more than everything else combined.
                if (result instanceof Promise) {
                    return result.then((r) => {
                        if (entry)
                            entry.issues = r.issues.length ? cloneIssues(r.issues) : NO_ISSUES;
                        return r;
                    });
                }
                if (entry)
                    entry.issues = result.issues.length ? cloneIssues(result.issues) : NO_ISSUES;
                return result;
            };
            inst._zod.parse = wrapped;
            if (inst._zod.run === base)
                inst._zod.run = wrapped;
        });
    },
};
/** The memoizer that gives containers cycle support. `zod` installs it by default; `zod/mini` opts in with `config({ memoizer: memoizer() })`. */
function memoizer() {
    return memo;
}
/** Whether this value is a node a back-edge resolved to before it finished. */
function isBackEdge(ctx, value) {
    const backEdges = ctx[STATE]?.backEdges;
    return backEdges !== undefined && isRef(value) && backEdges.has(value);
}

const error = () => {
    const Sizable = {
        string: { unit: "characters", verb: "to have" },
        file: { unit: "bytes", verb: "to have" },
        array: { unit: "items", verb: "to have" },
        set: { unit: "items", verb: "to have" },
        map: { unit: "entries", verb: "to have" },
    };
    function getSizing(origin) {
        return Sizable[origin] ?? null;
    }
    const FormatDictionary = {
        regex: "input",
        email: "email address",
        url: "URL",
        emoji: "emoji",
        uuid: "UUID",
        uuidv4: "UUIDv4",
        uuidv6: "UUIDv6",
        nanoid: "nanoid",
        guid: "GUID",
        cuid: "cuid",
        cuid2: "cuid2",
        ulid: "ULID",
        xid: "XID",
        ksuid: "KSUID",
        datetime: "ISO datetime",
        date: "ISO date",
        time: "ISO time",
        duration: "ISO duration",
        ipv4: "IPv4 address",
        ipv6: "IPv6 address",
        mac: "MAC address",
        cidrv4: "IPv4 range",
        cidrv6: "IPv6 range",
        base64: "base64-encoded string",
        base64url: "base64url-encoded string",
        json_string: "JSON string",
        e164: "E.164 number",
        currency_code: "currency code",
        credit_card: "credit card number",
        iban: "IBAN",
        jwt: "JWT",
        template_literal: "input",
    };
    // type names: missing keys = do not translate (use raw value via ?? fallback)
    const TypeDictionary = {
        // Compatibility: "nan" -> "NaN" for display
        nan: "NaN",
        // All other type names omitted - they fall back to raw values via ?? operator
    };
    function getTypeName(type, input) {
        if (type === "number" && typeof input === "number" && !Number.isFinite(input)) {
            return String(input);
        }
        return TypeDictionary[type] ?? type;
    }
    return (issue) => {
        switch (issue.code) {
            case "invalid_type": {
                const expected = getTypeName(issue.expected);
                const receivedType = parsedType(issue.input);
                const received = getTypeName(receivedType, issue.input);
                return `Invalid input: expected ${expected}, received ${received}`;
            }
            case "invalid_value":
                if (issue.values.length === 1)
                    return `Invalid input: expected ${stringifyPrimitive(issue.values[0])}`;
                return `Invalid option: expected one of ${joinValues(issue.values, "|")}`;
            case "too_big": {
                const adj = issue.exact ? "exactly " : issue.inclusive ? "<=" : "<";
                const sizing = getSizing(issue.origin);
                if (sizing)
                    return `Too big: expected ${issue.origin ?? "value"} to have ${adj}${issue.maximum.toString()} ${sizing.unit ?? "elements"}`;
                return `Too big: expected ${issue.origin ?? "value"} to be ${adj}${issue.maximum.toString()}`;
            }
            case "too_small": {
                const adj = issue.exact ? "exactly " : issue.inclusive ? ">=" : ">";
                const sizing = getSizing(issue.origin);
                if (sizing) {
                    return `Too small: expected ${issue.origin} to have ${adj}${issue.minimum.toString()} ${sizing.unit}`;
                }
                return `Too small: expected ${issue.origin} to be ${adj}${issue.minimum.toString()}`;
            }
            case "invalid_format": {
                const _issue = issue;
                if (_issue.format === "starts_with") {
                    return `Invalid string: must start with "${_issue.prefix}"`;
                }
                if (_issue.format === "ends_with")
                    return `Invalid string: must end with "${_issue.suffix}"`;
                if (_issue.format === "includes")
                    return `Invalid string: must include "${_issue.includes}"`;
                if (_issue.format === "regex")
                    return `Invalid string: must match pattern ${_issue.pattern}`;
                return `Invalid ${FormatDictionary[_issue.format] ?? issue.format}`;
            }
            case "not_multiple_of":
                return `Invalid number: must be a multiple of ${issue.divisor}`;
            case "unrecognized_keys":
                return `Unrecognized key${issue.keys.length > 1 ? "s" : ""}: ${joinValues(issue.keys, ", ")}`;
            case "invalid_key":
                return `Invalid key in ${issue.origin}`;
            case "invalid_union":
                if (issue.options && Array.isArray(issue.options) && issue.options.length > 0) {
                    const opts = issue.options.map((o) => `'${o}'`).join(" | ");
                    return `Invalid discriminator value. Expected ${opts}`;
                }
                if (issue.inclusive === false) {
                    return "Invalid input: more than one option matched";
                }
                return "Invalid input";
            case "invalid_element":
                return `Invalid value in ${issue.origin}`;
            default:
                return `Invalid input`;
        }
    };
};
function en () {
    return {
        localeError: error(),
    };
}

var _a;
class $ZodRegistry {
    constructor() {
        this._map = new WeakMap();
        this._idmap = new Map();
    }
    add(schema, ..._meta) {
        const meta = _meta[0];
        this._map.set(schema, meta);
        if (meta && typeof meta === "object" && "id" in meta) {
            this._idmap.set(meta.id, schema);
        }
        return this;
    }
    clear() {
        this._map = new WeakMap();
        this._idmap = new Map();
        return this;
    }
    remove(schema) {
        const meta = this._map.get(schema);
        if (meta && typeof meta === "object" && "id" in meta) {
            this._idmap.delete(meta.id);
        }
        this._map.delete(schema);
        return this;
    }
    get(schema) {
        // return this._map.get(schema) as any;
        // inherit metadata
        const p = schema._zod.parent;
        if (p) {
            const pm = { ...(this.get(p) ?? {}) };
            delete pm.id; // do not inherit id
            const f = { ...pm, ...this._map.get(schema) };
            return Object.keys(f).length ? f : undefined;
        }
        return this._map.get(schema);
    }
    has(schema) {
        return this._map.has(schema);
    }
}
// registries
function registry() {
    return new $ZodRegistry();
}
(_a = globalThis).__zod_globalRegistry ?? (_a.__zod_globalRegistry = registry());
const globalRegistry = globalThis.__zod_globalRegistry;

function snapshotChecks(def) {
    if (def.checks)
        def.checks = [...def.checks];
    return def;
}
// @__NO_SIDE_EFFECTS__
function _string(Class, params) {
    return new Class(snapshotChecks({ type: "string", ...normalizeParams(params) }));
}
// @__NO_SIDE_EFFECTS__
function _email(Class, params) {
    return new Class({
        type: "string",
        format: "email",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _guid(Class, params) {
    return new Class({
        type: "string",
        format: "guid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _uuid(Class, params) {
    return new Class({
        type: "string",
        format: "uuid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _uuidv4(Class, params) {
    return new Class({
        type: "string",
        format: "uuid",
        check: "string_format",
        abort: false,
        version: "v4",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _uuidv6(Class, params) {
    return new Class({
        type: "string",
        format: "uuid",
        check: "string_format",
        abort: false,
        version: "v6",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _uuidv7(Class, params) {
    return new Class({
        type: "string",
        format: "uuid",
        check: "string_format",
        abort: false,
        version: "v7",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _url(Class, params) {
    return new Class({
        type: "string",
        format: "url",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _emoji(Class, params) {
    return new Class({
        type: "string",
        format: "emoji",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _nanoid(Class, params) {
    return new Class({
        type: "string",
        format: "nanoid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
/**
 * @deprecated CUID v1 is deprecated by its authors due to information leakage
 * (timestamps embedded in the id). Use {@link _cuid2} instead.
 * See https://github.com/paralleldrive/cuid.
 */
// @__NO_SIDE_EFFECTS__
function _cuid(Class, params) {
    return new Class({
        type: "string",
        format: "cuid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _cuid2(Class, params) {
    return new Class({
        type: "string",
        format: "cuid2",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _ulid(Class, params) {
    return new Class({
        type: "string",
        format: "ulid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _xid(Class, params) {
    return new Class({
        type: "string",
        format: "xid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _ksuid(Class, params) {
    return new Class({
        type: "string",
        format: "ksuid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _ipv4(Class, params) {
    return new Class({
        type: "string",
        format: "ipv4",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _ipv6(Class, params) {
    return new Class({
        type: "string",
        format: "ipv6",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _cidrv4(Class, params) {
    return new Class({
        type: "string",
        format: "cidrv4",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _cidrv6(Class, params) {
    return new Class({
        type: "string",
        format: "cidrv6",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _base64(Class, params) {
    return new Class({
        type: "string",
        format: "base64",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _base64url(Class, params) {
    return new Class({
        type: "string",
        format: "base64url",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _e164(Class, params) {
    return new Class({
        type: "string",
        format: "e164",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _jwt(Class, params) {
    return new Class({
        type: "string",
        format: "jwt",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _isoDateTime(Class, params) {
    return new Class({
        type: "string",
        format: "datetime",
        check: "string_format",
        offset: false,
        local: false,
        precision: null,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _isoDate(Class, params) {
    return new Class({
        type: "string",
        format: "date",
        check: "string_format",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _isoTime(Class, params) {
    return new Class({
        type: "string",
        format: "time",
        check: "string_format",
        precision: null,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _isoDuration(Class, params) {
    return new Class({
        type: "string",
        format: "duration",
        check: "string_format",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _number(Class, params) {
    return new Class(snapshotChecks({ type: "number", checks: [], ...normalizeParams(params) }));
}
// @__NO_SIDE_EFFECTS__
function _int(Class, params) {
    return new Class({
        type: "number",
        check: "number_format",
        abort: false,
        format: "safeint",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _boolean(Class, params) {
    return new Class({
        type: "boolean",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _unknown(Class) {
    return new Class({
        type: "unknown",
    });
}
// @__NO_SIDE_EFFECTS__
function _never(Class, params) {
    return new Class({
        type: "never",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _lt(value, params) {
    return new $ZodCheckLessThan({
        check: "less_than",
        ...normalizeParams(params),
        value,
        inclusive: false,
    });
}
// @__NO_SIDE_EFFECTS__
function _lte(value, params) {
    return new $ZodCheckLessThan({
        check: "less_than",
        ...normalizeParams(params),
        value,
        inclusive: true,
    });
}
// @__NO_SIDE_EFFECTS__
function _gt(value, params) {
    return new $ZodCheckGreaterThan({
        check: "greater_than",
        ...normalizeParams(params),
        value,
        inclusive: false,
    });
}
// @__NO_SIDE_EFFECTS__
function _gte(value, params) {
    return new $ZodCheckGreaterThan({
        check: "greater_than",
        ...normalizeParams(params),
        value,
        inclusive: true,
    });
}
// @__NO_SIDE_EFFECTS__
function _multipleOf(value, params) {
    return new $ZodCheckMultipleOf({
        check: "multiple_of",
        ...normalizeParams(params),
        value,
    });
}
// @__NO_SIDE_EFFECTS__
function _maxLength(maximum, params) {
    const ch = new $ZodCheckMaxLength({
        check: "max_length",
        ...normalizeParams(params),
        maximum,
    });
    return ch;
}
// @__NO_SIDE_EFFECTS__
function _minLength(minimum, params) {
    return new $ZodCheckMinLength({
        check: "min_length",
        ...normalizeParams(params),
        minimum,
    });
}
// @__NO_SIDE_EFFECTS__
function _length(length, params) {
    return new $ZodCheckLengthEquals({
        check: "length_equals",
        ...normalizeParams(params),
        length,
    });
}
// @__NO_SIDE_EFFECTS__
function _regex(pattern, params) {
    return new $ZodCheckRegex({
        check: "string_format",
        format: "regex",
        ...normalizeParams(params),
        pattern,
    });
}
// @__NO_SIDE_EFFECTS__
function _lowercase(params) {
    return new $ZodCheckLowerCase({
        check: "string_format",
        format: "lowercase",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _uppercase(params) {
    return new $ZodCheckUpperCase({
        check: "string_format",
        format: "uppercase",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _includes(includes, params) {
    return new $ZodCheckIncludes({
        check: "string_format",
        format: "includes",
        ...normalizeParams(params),
        includes,
    });
}
// @__NO_SIDE_EFFECTS__
function _startsWith(prefix, params) {
    return new $ZodCheckStartsWith({
        check: "string_format",
        format: "starts_with",
        ...normalizeParams(params),
        prefix,
    });
}
// @__NO_SIDE_EFFECTS__
function _endsWith(suffix, params) {
    return new $ZodCheckEndsWith({
        check: "string_format",
        format: "ends_with",
        ...normalizeParams(params),
        suffix,
    });
}
// @__NO_SIDE_EFFECTS__
function _overwrite(tx) {
    return new $ZodCheckOverwrite({
        check: "overwrite",
        tx,
    });
}
// normalize
// @__NO_SIDE_EFFECTS__
function _normalize(form) {
    return _overwrite((input) => input.normalize(form));
}
// trim
// @__NO_SIDE_EFFECTS__
function _trim() {
    return _overwrite((input) => input.trim());
}
// toLowerCase
// @__NO_SIDE_EFFECTS__
function _toLowerCase() {
    return _overwrite((input) => input.toLowerCase());
}
// toUpperCase
// @__NO_SIDE_EFFECTS__
function _toUpperCase() {
    return _overwrite((input) => input.toUpperCase());
}
// slugify
// @__NO_SIDE_EFFECTS__
function _slugify() {
    return _overwrite((input) => slugify(input));
}
// @__NO_SIDE_EFFECTS__
function _array(Class, element, params) {
    return new Class({
        type: "array",
        element,
        // get element() {
        //   return element;
        // },
        ...normalizeParams(params),
    });
}
// same as _custom but defaults to abort:false
// @__NO_SIDE_EFFECTS__
function _refine(Class, fn, _params) {
    const schema = new Class({
        type: "custom",
        check: "custom",
        fn: fn,
        ...normalizeParams(_params),
    });
    return schema;
}
// @__NO_SIDE_EFFECTS__
function _superRefine(fn, params) {
    const ch = _check((payload) => {
        payload.addIssue = (issue$1) => {
            if (typeof issue$1 === "string") {
                payload.issues.push(issue(issue$1, payload.value, ch._zod.def));
            }
            else {
                // for Zod 3 backwards compatibility
                const _issue = issue$1;
                if (_issue.fatal)
                    _issue.continue = false;
                _issue.code ?? (_issue.code = "custom");
                if (!("input" in _issue))
                    _issue.input = payload.value;
                _issue.inst ?? (_issue.inst = ch);
                _issue.continue ?? (_issue.continue = !ch._zod.def.abort); // abort is always undefined, so this is always true...
                payload.issues.push(issue(_issue));
            }
        };
        return fn(payload.value, payload);
    }, params);
    return ch;
}
// @__NO_SIDE_EFFECTS__
function _check(fn, params) {
    const ch = new $ZodCheck({
        check: "custom",
        ...normalizeParams(params),
    });
    ch._zod.check = fn;
    return ch;
}

function assignProps(target, ...sources) {
    for (const source of sources) {
        for (const key of Reflect.ownKeys(source)) {
            if (Object.prototype.propertyIsEnumerable.call(source, key)) {
                assignProp(target, key, source[key]);
            }
        }
    }
    return target;
}
// function initializeContext<T extends schemas.$ZodType>(inputs: JSONSchemaGeneratorParams<T>): ToJSONSchemaContext<T> {
//   return {
//     processor: inputs.processor,
//     metadataRegistry: inputs.metadata ?? globalRegistry,
//     target: inputs.target ?? "draft-2020-12",
//     unrepresentable: inputs.unrepresentable ?? "throw",
//   };
// }
function initializeContext(params) {
    // Normalize target: convert old non-hyphenated versions to hyphenated versions
    let target = params?.target ?? "draft-2020-12";
    if (target === "draft-4")
        target = "draft-04";
    if (target === "draft-7")
        target = "draft-07";
    return {
        processors: params.processors ?? {},
        metadataRegistry: params?.metadata ?? globalRegistry,
        target,
        unrepresentable: params?.unrepresentable ?? "throw",
        override: params?.override ?? (() => { }),
        io: params?.io ?? "output",
        counter: 0,
        seen: new Map(),
        sharedDefsExtractedFor: undefined,
        sharedEmitDoneFor: undefined,
        cycles: params?.cycles ?? "ref",
        reused: params?.reused ?? "inline",
        intersections: [],
        deferred: [],
        external: params?.external ?? undefined,
    };
}
/**
 * Applies the `unrepresentable` setting at a site that has no JSON Schema equivalent. Throws
 * `message` unless the setting (or the handler's return value) says otherwise. Returns `true` if a
 * custom JSON Schema was written into `json`, in which case the caller must not write its own.
 */
function handleUnrepresentable(schema, ctx, json, params, message) {
    const result = typeof ctx.unrepresentable === "function"
        ? ctx.unrepresentable({ zodSchema: schema, path: params.path, message })
        : ctx.unrepresentable;
    if (result === "any")
        return false;
    if (result === undefined || result === "throw")
        throw new Error(message);
    Object.assign(json, result);
    return true;
}
// never rename this back to `process`: bundler polyfills inject a top-level `const process` that a lexical declaration of the same name collides with (#6397)
function processSchema(schema, ctx, _params = { path: [], schemaPath: [] }) {
    var _a;
    const def = schema._zod.def;
    // check for schema in seens
    const seen = ctx.seen.get(schema);
    if (seen) {
        seen.count++;
        // check if cycle
        const isCycle = _params.schemaPath.includes(schema);
        if (isCycle) {
            seen.cycle = _params.path;
        }
        return seen.schema;
    }
    // initialize
    const result = { schema: {}, count: 1, cycle: undefined, path: _params.path };
    ctx.seen.set(schema, result);
    ctx.sharedDefsExtractedFor = undefined;
    ctx.sharedEmitDoneFor = undefined;
    // custom method overrides default behavior
    const overrideSchema = schema._zod.toJSONSchema?.();
    if (overrideSchema) {
        result.schema = overrideSchema;
    }
    else {
        const params = {
            ..._params,
            schemaPath: [..._params.schemaPath, schema],
            path: _params.path,
        };
        if (schema._zod.processJSONSchema) {
            schema._zod.processJSONSchema(ctx, result.schema, params);
        }
        else {
            const _json = result.schema;
            const processor = ctx.processors[def.type];
            if (!processor) {
                throw new Error(`[toJSONSchema]: Non-representable type encountered: ${def.type}`);
            }
            processor(schema, ctx, _json, params);
        }
        const parent = schema._zod.parent;
        if (parent) {
            // Also set ref if processor didn't (for inheritance)
            if (!result.ref)
                result.ref = parent;
            processSchema(parent, ctx, params);
            ctx.seen.get(parent).isParent = true;
        }
    }
    // metadata
    const meta = ctx.metadataRegistry.get(schema);
    if (meta)
        assignProps(result.schema, meta);
    if (ctx.io === "input" && isTransforming(schema)) {
        // examples/defaults only apply to output type of pipe
        delete result.schema.examples;
        delete result.schema.default;
    }
    // set prefault as default
    if (ctx.io === "input" && "_prefault" in result.schema)
        (_a = result.schema).default ?? (_a.default = result.schema._prefault);
    delete result.schema._prefault;
    // pulling fresh from ctx.seen in case it was overwritten
    const _result = ctx.seen.get(schema);
    return _result.schema;
}
// Escape a reference token for use in a JSON Pointer fragment (RFC 6901): `~` becomes `~0` and `/` becomes `~1`. The `~` replacement must run first.
function encodeJSONPointerSegment(segment) {
    return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}
function extractDefs(ctx, schema
// params: EmitParams
) {
    // iterate over seen map;
    const root = ctx.seen.get(schema);
    if (!root)
        throw new Error("Unprocessed schema. This is a bug in Zod.");
    // With `external` set, every registered schema resolves through the external branch of `makeURI`, so the root branch below produces the same ref the external branch would — this pass is identical whichever schema it is called with, and only needs to run once.
    if (ctx.external && ctx.sharedDefsExtractedFor === ctx.external)
        return;
    // Track ids to detect duplicates across different schemas
    const idToSchema = new Map();
    for (const entry of ctx.seen.entries()) {
        const id = ctx.metadataRegistry.get(entry[0])?.id;
        if (id) {
            const existing = idToSchema.get(id);
            if (existing && existing !== entry[0]) {
                throw new Error(`Duplicate schema id "${id}" detected during JSON Schema conversion. Two different schemas cannot share the same id when converted together.`);
            }
            idToSchema.set(id, entry[0]);
        }
    }
    // returns a ref to the schema defId will be empty if the ref points to an external schema (or #)
    const makeURI = (entry) => {
        // comparing the seen objects because sometimes multiple schemas map to the same seen object. e.g. lazy
        // external is configured
        const defsSegment = ctx.target === "draft-2020-12" ? "$defs" : "definitions";
        if (ctx.external) {
            const externalId = ctx.external.registry.get(entry[0])?.id; // ?? "__shared";// `__schema${ctx.counter++}`;
            // check if schema is in the external registry
            const uriGenerator = ctx.external.uri ?? ((id) => id);
            if (externalId) {
                return { ref: uriGenerator(externalId) };
            }
            // otherwise, add to __shared
            const id = entry[1].defId ?? entry[1].schema.id ?? `schema${ctx.counter++}`;
            entry[1].defId = id; // set defId so it will be reused if needed
            return { defId: id, ref: `${uriGenerator("__shared")}#/${defsSegment}/${encodeJSONPointerSegment(id)}` };
        }
        const uriPrefix = `#`;
        const defUriPrefix = `${uriPrefix}/${defsSegment}/`;
        // an id-less root has nowhere to be extracted to, so it stays inline and self-references as `#`
        if (entry[1] === root && !entry[1].schema.id) {
            return { ref: uriPrefix };
        }
        // self-contained schema
        const defId = entry[1].schema.id ?? `__schema${ctx.counter++}`;
        return { defId, ref: defUriPrefix + encodeJSONPointerSegment(defId) };
    };
    // stored cached version in `def` property remove all properties, set $ref
    const extractToDef = (entry) => {
        // if the schema is already a reference, do not extract it
        if (entry[1].schema.$ref) {
            return;
        }
        const seen = entry[1];
        const { ref, defId } = makeURI(entry);
        seen.def = { ...seen.schema };
        // defId won't be set if the schema is a reference to an external schema or if the schema is the root schema
        if (defId)
            seen.defId = defId;
        // wipe away all properties except $ref
        const schema = seen.schema;
        for (const key in schema) {
            delete schema[key];
        }
        schema.$ref = ref;
    };
    // throw on cycles
    // break cycles
    if (ctx.cycles === "throw") {
        for (const entry of ctx.seen.entries()) {
            const seen = entry[1];
            if (seen.cycle) {
                throw new Error("Cycle detected: " +
                    `#/${seen.cycle?.join("/")}/<root>` +
                    '\n\nSet the `cycles` parameter to `"ref"` to resolve cyclical schemas with defs.');
            }
        }
    }
    // extract schemas into $defs
    for (const entry of ctx.seen.entries()) {
        const seen = entry[1];
        // convert root schema to # $ref
        if (schema === entry[0]) {
            extractToDef(entry); // this has special handling for the root schema
            continue;
        }
        // extract schemas that are in the external registry
        if (ctx.external) {
            const ext = ctx.external.registry.get(entry[0])?.id;
            if (schema !== entry[0] && ext) {
                extractToDef(entry);
                continue;
            }
        }
        // extract schemas with `id` meta
        const id = ctx.metadataRegistry.get(entry[0])?.id;
        if (id) {
            extractToDef(entry);
            continue;
        }
        // break cycles
        if (seen.cycle) {
            // any
            extractToDef(entry);
            continue;
        }
        // extract reused schemas
        if (seen.count > 1) {
            if (ctx.reused === "ref") {
                extractToDef(entry);
            }
        }
    }
    if (ctx.external)
        ctx.sharedDefsExtractedFor = ctx.external;
}
/** Rewrites `anyOf: [{type: "a"}, {type: "b"}]` to `type: ["a", "b"]`, which every JSON Schema draft treats as equivalent and most consumers render far better for the nullable case. Only branches that are a bare type assertion qualify — anything carrying a constraint, `$ref`, `const` or metadata is left alone. Runs after `flattenRef`, so a branch an override decorated or `$defs` extraction turned into a `$ref` is no longer bare and correctly stays in `anyOf`. `oneOf` is excluded: `integer` and `number` overlap, so "exactly one" and "at least one" are not the same there. OpenAPI 3.0 is excluded: its `type` must be a single string. */
function compactTypeUnion(schema) {
    const options = schema.anyOf;
    if (!Array.isArray(options) || options.length === 0 || schema.type !== undefined)
        return;
    const types = [];
    for (const option of options) {
        if (!option || typeof option !== "object")
            return;
        // A branch that is itself a compactible union folds into this one — nested `anyOf` and a flat `type` array say the same thing. Compacting it first also makes the result independent of the order this pass walks the seen map in.
        compactTypeUnion(option);
        const keys = Object.keys(option);
        if (keys.length !== 1 || keys[0] !== "type")
            return;
        const type = option.type;
        for (const member of Array.isArray(type) ? type : [type]) {
            if (typeof member !== "string")
                return;
            if (!types.includes(member))
                types.push(member);
        }
    }
    delete schema.anyOf;
    // A `type` array must be non-empty and unique (metaschema); a single member is spelled as a bare string.
    schema.type = types.length === 1 ? types[0] : types;
}
/** Keywords `foldIntersection` knows how to combine. Anything else — `$ref`, `patternProperties`,
 * an annotation like `description` — makes a member unfoldable, so a constraint this does not
 * understand leaves the `allOf` alone instead of being silently dropped or misattributed. */
const FOLDABLE_KEYS = new Set(["type", "properties", "required", "additionalProperties"]);
const UNION_KEYS = ["oneOf", "anyOf"];
/** A member's constraint on a key it does not declare itself. A `catchall` states one; `false`, an absent `additionalProperties`, and the empty schema a loose object emits state nothing. */
function undeclaredConstraint(member) {
    const extra = member.additionalProperties;
    if (extra === undefined || extra === false || typeof extra !== "object" || extra === null)
        return null;
    return Object.keys(extra).length ? extra : null;
}
/** Combines object members into the single object they describe together, or returns `null` if any of them carries a keyword outside {@link FOLDABLE_KEYS}. */
function foldObjects(members) {
    const objects = [];
    for (const member of members) {
        // A boolean subschema is legal JSON Schema and carries no keywords to fold.
        if (typeof member !== "object" || member.type !== "object")
            return null;
        for (const key in member) {
            if (!FOLDABLE_KEYS.has(key))
                return null;
        }
        objects.push(member);
    }
    const properties = {};
    const required = new Set();
    for (const object of objects) {
        for (const key in object.properties) {
            // `in` would report a `__proto__` key as already present via the prototype chain and skip it.
            if (Object.prototype.hasOwnProperty.call(properties, key))
                continue;
            // Every member constrains this key: the ones that declare it say how, and a `catchall` member constrains it too even though it does not name it. The key has to satisfy all of them, which is the same intersection one level down.
            const parts = [];
            for (const other of objects) {
                const part = other.properties?.[key] ?? undeclaredConstraint(other);
                if (part === null || part === undefined)
                    continue;
                if (!parts.some((seen) => JSON.stringify(seen) === JSON.stringify(part)))
                    parts.push(part);
            }
            const merged = parts.length === 1
                ? parts[0]
                : (foldObjects(parts) ?? { allOf: parts });
            assignProp(properties, key, merged);
        }
        for (const key of object.required ?? [])
            required.add(key);
    }
    const folded = { type: "object", properties };
    if (required.size)
        folded.required = [...required];
    // A key no member declares is rejected only when every member rejects it, so the fold is closed only when every member is. Otherwise it carries whatever the `catchall` members demand of such a key.
    if (objects.every((object) => object.additionalProperties === false)) {
        folded.additionalProperties = false;
    }
    else {
        const constraints = [];
        for (const object of objects) {
            const constraint = undeclaredConstraint(object);
            if (constraint && !constraints.some((seen) => JSON.stringify(seen) === JSON.stringify(constraint)))
                constraints.push(constraint);
        }
        if (constraints.length === 1)
            folded.additionalProperties = constraints[0];
        else if (constraints.length > 1)
            folded.additionalProperties = { allOf: constraints };
    }
    return folded;
}
/** `additionalProperties` in an `allOf` member sees only that member's own `properties`, so two
 * closed object members reject each other's keys and the schema validates nothing. Zod's parser
 * pools the key sets instead — `handleIntersectionResults` reports a key as unrecognized only when
 * *every* side rejects it — so the emitted schema has to pool them too, and folding the members
 * into one object is the encoding that says so on every target.
 *
 * This runs from `finalize`, after `extractDefs`, which is what keeps it clear of the `$ref`
 * machinery: a member extracted into `$defs` is already a `$ref` by now and declines to fold, so it
 * keeps its reference and its own closedness rather than being inlined as a stale copy. */
function foldIntersection(json) {
    const allOf = json.allOf;
    if (!Array.isArray(allOf) || allOf.length < 2)
        return;
    // An `override` runs before this pass and may have written object keywords onto the intersection itself. Those are deliberate, so decline rather than overwrite them.
    for (const key of FOLDABLE_KEYS)
        if (key in json)
            return;
    // An intersection distributes over a union: `A & (X | Y)` is `(A & X) | (A & Y)`. Only the first union is distributed over; a second one stays among the members every branch folds against, where it fails the object check and declines the whole intersection rather than multiplying out.
    const unions = allOf.filter((m) => UNION_KEYS.some((k) => Array.isArray(m[k])));
    let folded = null;
    if (!unions.length) {
        folded = foldObjects(allOf);
    }
    else {
        const union = unions[0];
        const keyword = UNION_KEYS.find((k) => Array.isArray(union[k]));
        if (Object.keys(union).length !== 1)
            return;
        const rest = allOf.filter((m) => m !== union);
        const branches = union[keyword].map((branch) => foldObjects([...rest, branch]));
        if (branches.some((b) => !b))
            return;
        folded = { [keyword]: branches };
    }
    if (!folded)
        return;
    delete json.allOf;
    assignProps(json, folded);
}
function finalize(ctx, schema) {
    const root = ctx.seen.get(schema);
    if (!root)
        throw new Error("Unprocessed schema. This is a bug in Zod.");
    // flatten refs - inherit properties from parent schemas
    const flattenRef = (zodSchema) => {
        const seen = ctx.seen.get(zodSchema);
        // already processed
        if (seen.ref === null)
            return;
        const schema = seen.def ?? seen.schema;
        const _cached = { ...schema };
        const ref = seen.ref;
        seen.ref = null; // prevent infinite recursion
        if (ref) {
            flattenRef(ref);
            const refSeen = ctx.seen.get(ref);
            const refSchema = refSeen.schema;
            // merge referenced schema into current
            if (refSchema.$ref && (ctx.target === "draft-07" || ctx.target === "draft-04" || ctx.target === "openapi-3.0")) {
                // older drafts can't combine $ref with other properties
                schema.allOf = schema.allOf ?? [];
                schema.allOf.push(refSchema);
            }
            else {
                assignProps(schema, refSchema);
            }
            // restore child's own properties (child wins)
            assignProps(schema, _cached);
            const isParentRef = zodSchema._zod.parent === ref;
            // For parent chain, child is a refinement - remove parent-only properties
            if (isParentRef) {
                for (const key in schema) {
                    if (key === "$ref" || key === "allOf")
                        continue;
                    if (!(key in _cached)) {
                        delete schema[key];
                    }
                }
            }
            // When ref was extracted to $defs, remove properties that match the definition
            if (refSchema.$ref && refSeen.def) {
                for (const key in schema) {
                    if (key === "$ref" || key === "allOf")
                        continue;
                    if (key in refSeen.def && JSON.stringify(schema[key]) === JSON.stringify(refSeen.def[key])) {
                        delete schema[key];
                    }
                }
            }
        }
        // If parent was extracted (has $ref), propagate $ref to this schema. This handles cases like: readonly().meta({id}).describe() where processor sets ref to innerType but parent should be referenced
        const parent = zodSchema._zod.parent;
        if (parent && parent !== ref) {
            // Ensure parent is processed first so its def has inherited properties
            flattenRef(parent);
            const parentSeen = ctx.seen.get(parent);
            if (parentSeen?.schema.$ref) {
                schema.$ref = parentSeen.schema.$ref;
                // De-duplicate with parent's definition
                if (parentSeen.def) {
                    for (const key in schema) {
                        if (key === "$ref" || key === "allOf")
                            continue;
                        if (key in parentSeen.def && JSON.stringify(schema[key]) === JSON.stringify(parentSeen.def[key])) {
                            delete schema[key];
                        }
                    }
                }
            }
        }
        // execute overrides
        ctx.override({
            zodSchema: zodSchema,
            jsonSchema: schema,
            path: seen.path ?? [],
        });
    };
    // Flattening walks the whole map and clears each `ref` as it goes, so a second call over the same map is a no-op scan. Skip it outright once it has run for a registry conversion.
    if (!ctx.external || ctx.sharedEmitDoneFor !== ctx.external) {
        for (const entry of [...ctx.seen.entries()].reverse()) {
            flattenRef(entry[0]);
        }
        if (ctx.target !== "openapi-3.0") {
            for (const entry of ctx.seen.entries()) {
                compactTypeUnion(entry[1].def ?? entry[1].schema);
            }
        }
        for (const rewrite of ctx.deferred)
            rewrite();
        // After flattening, every member that was extracted is a `$ref`, so the fold sees the final shape. A schema that inherits an intersection — through `z.lazy`, or any `ref` chain — holds the same `allOf` array, so fold by array identity to catch every copy.
        if (ctx.intersections.length) {
            const carriers = new Map();
            for (const seen of ctx.seen.values()) {
                for (const json of [seen.schema, seen.def]) {
                    const allOf = json?.allOf;
                    if (!Array.isArray(allOf))
                        continue;
                    const existing = carriers.get(allOf);
                    if (existing)
                        existing.push(json);
                    else
                        carriers.set(allOf, [json]);
                }
            }
            for (const allOf of ctx.intersections) {
                for (const json of carriers.get(allOf) ?? [])
                    foldIntersection(json);
            }
        }
    }
    const result = {};
    if (ctx.target === "draft-2020-12") {
        result.$schema = "https://json-schema.org/draft/2020-12/schema";
    }
    else if (ctx.target === "draft-07") {
        result.$schema = "http://json-schema.org/draft-07/schema#";
    }
    else if (ctx.target === "draft-04") {
        result.$schema = "http://json-schema.org/draft-04/schema#";
    }
    else if (ctx.target === "openapi-3.0") ;
    else ;
    if (ctx.external?.uri) {
        const id = ctx.external.registry.get(schema)?.id;
        if (!id)
            throw new Error("Schema is missing an `id` property");
        result.$id = ctx.external.uri(id);
    }
    // when the root was extracted into $defs, `root.schema` is the `$ref` wrapper and `root.def` is the body that now lives under $defs
    assignProps(result, root.defId ? root.schema : (root.def ?? root.schema));
    // The `id` in `.meta()` is a Zod-specific registration tag used to extract schemas into $defs — it is not user-facing JSON Schema metadata. Strip it from the output body where it would otherwise leak. The id is preserved implicitly via the $defs key (and via $ref paths).
    const rootMetaId = ctx.metadataRegistry.get(schema)?.id;
    if (rootMetaId !== undefined && result.id === rootMetaId)
        delete result.id;
    // build defs object. With `external`, `defs` is the shared object every schema writes into, so the same entries are reassigned on every call. Without it, `defs` is fresh per call and must be rebuilt.
    const defs = ctx.external?.defs ?? {};
    if (!ctx.external || ctx.sharedEmitDoneFor !== ctx.external) {
        for (const entry of ctx.seen.entries()) {
            const seen = entry[1];
            if (seen.def && seen.defId) {
                if (seen.def.id === seen.defId)
                    delete seen.def.id;
                assignProp(defs, seen.defId, seen.def);
            }
        }
    }
    if (ctx.external)
        ctx.sharedEmitDoneFor = ctx.external;
    // set definitions in result
    if (ctx.external) ;
    else {
        if (Object.keys(defs).length > 0) {
            if (ctx.target === "draft-2020-12") {
                result.$defs = defs;
            }
            else {
                result.definitions = defs;
            }
        }
    }
    try {
        // this "finalizes" this schema and ensures all cycles are removed each call to finalize() is functionally independent though the seen map is shared
        const finalized = JSON.parse(JSON.stringify(result));
        Object.defineProperty(finalized, "~standard", {
            value: {
                ...schema["~standard"],
                jsonSchema: {
                    input: createStandardJSONSchemaMethod(schema, "input", ctx.processors),
                    output: createStandardJSONSchemaMethod(schema, "output", ctx.processors),
                },
            },
            enumerable: false,
            writable: false,
        });
        return finalized;
    }
    catch (_err) {
        throw new Error("Error converting schema to JSON.");
    }
}
function isTransforming(_schema, _ctx) {
    const ctx = _ctx ?? { seen: new Set() };
    if (ctx.seen.has(_schema))
        return false;
    ctx.seen.add(_schema);
    const def = _schema._zod.def;
    if (def.type === "transform")
        return true;
    if (def.type === "array")
        return isTransforming(def.element, ctx);
    if (def.type === "set")
        return isTransforming(def.valueType, ctx);
    if (def.type === "lazy")
        return isTransforming(def.getter(), ctx);
    if (def.type === "promise" ||
        def.type === "optional" ||
        def.type === "nonoptional" ||
        def.type === "nullable" ||
        def.type === "readonly" ||
        def.type === "default" ||
        def.type === "prefault" ||
        def.type === "catch") {
        return isTransforming(def.innerType, ctx);
    }
    if (def.type === "intersection") {
        return isTransforming(def.left, ctx) || isTransforming(def.right, ctx);
    }
    if (def.type === "record" || def.type === "map") {
        return isTransforming(def.keyType, ctx) || isTransforming(def.valueType, ctx);
    }
    if (def.type === "pipe") {
        if (_schema._zod.traits.has("$ZodCodec"))
            return true;
        return isTransforming(def.in, ctx) || isTransforming(def.out, ctx);
    }
    if (def.type === "object") {
        for (const key in def.shape) {
            if (isTransforming(def.shape[key], ctx))
                return true;
        }
        return false;
    }
    if (def.type === "union") {
        for (const option of def.options) {
            if (isTransforming(option, ctx))
                return true;
        }
        return false;
    }
    if (def.type === "tuple") {
        for (const item of def.items) {
            if (isTransforming(item, ctx))
                return true;
        }
        if (def.rest && isTransforming(def.rest, ctx))
            return true;
        return false;
    }
    return false;
}
/**
 * Creates a toJSONSchema method for a schema instance.
 * This encapsulates the logic of initializing context, processing, extracting defs, and finalizing.
 */
const createToJSONSchemaMethod = (schema, processors = {}) => (params) => {
    const ctx = initializeContext({ ...params, processors });
    processSchema(schema, ctx);
    extractDefs(ctx, schema);
    return finalize(ctx, schema);
};
const createStandardJSONSchemaMethod = (schema, io, processors = {}) => (params) => {
    const { libraryOptions, target } = params ?? {};
    const ctx = initializeContext({ ...(libraryOptions ?? {}), target, io, processors });
    processSchema(schema, ctx);
    extractDefs(ctx, schema);
    return finalize(ctx, schema);
};

const narrowMin = (agg, key, value) => {
    if (agg[key] === undefined || value > agg[key])
        agg[key] = value;
};
const narrowMax = (agg, key, value) => {
    if (agg[key] === undefined || value < agg[key])
        agg[key] = value;
};
const narrowBoth = (agg, value) => {
    narrowMin(agg, "minimum", value);
    narrowMax(agg, "maximum", value);
};
const addDivisor = (agg, value) => {
    agg.multipleOf ?? (agg.multipleOf = []);
    if (!agg.multipleOf.includes(value))
        agg.multipleOf.push(value);
};
const addPattern = (agg, pattern) => {
    agg.patterns ?? (agg.patterns = new Set());
    agg.patterns.add(pattern);
};
const intersectMime = (agg, mime) => {
    agg.mime = agg.mime ? agg.mime.filter((m) => mime.includes(m)) : [...mime];
};
// last-wins, matching the bag's historical write order; the flag keeps an integer format from being lost to a later float one
const setFormat = (agg, format) => {
    agg.format = format;
    if (format.includes("int"))
        agg.isInt = true;
};
const minContributor = (agg, def) => narrowMin(agg, "minimum", def.minimum);
const maxContributor = (agg, def) => narrowMax(agg, "maximum", def.maximum);
const formatContributor = (ranges) => (agg, def) => {
    setFormat(agg, def.format);
    const [minimum, maximum] = ranges[def.format];
    narrowMin(agg, "minimum", minimum);
    narrowMax(agg, "maximum", maximum);
};
const contributors = {
    greater_than: (agg, def) => narrowMin(agg, def.inclusive ? "minimum" : "exclusiveMinimum", def.value),
    less_than: (agg, def) => narrowMax(agg, def.inclusive ? "maximum" : "exclusiveMaximum", def.value),
    multiple_of: (agg, def) => addDivisor(agg, def.value),
    number_format: formatContributor(NUMBER_FORMAT_RANGES),
    bigint_format: formatContributor(BIGINT_FORMAT_RANGES),
    min_length: minContributor,
    max_length: maxContributor,
    length_equals: (agg, def) => narrowBoth(agg, def.length),
    min_size: minContributor,
    max_size: maxContributor,
    size_equals: (agg, def) => narrowBoth(agg, def.size),
    string_format: (agg, def) => {
        setFormat(agg, def.format);
        if (def.pattern)
            addPattern(agg, def.pattern);
        if (def.format === "base64" || def.format === "base64url")
            agg.contentEncoding = def.format;
        if (def.local || def.precision === -1)
            agg.laxFormat = true;
    },
    mime_type: (agg, def) => intersectMime(agg, def.mime),
};
function aggregateChecks(schema) {
    const agg = {};
    const def = schema._zod.def;
    // a format schema is its own first check, same rule as $ZodType init
    const list = schema._zod.traits.has("$ZodCheck")
        ? [schema, ...(def.checks ?? [])]
        : (def.checks ?? []);
    for (const ch of list)
        contributors[ch._zod.def.check]?.(agg, ch._zod.def);
    // reconcile with the bag so third-party onattach contributions still land; first-party residue is never tighter than the fold, so merging it back is idempotent for one and additive for the other
    const bag = schema._zod.bag;
    if (bag.minimum !== undefined)
        narrowMin(agg, "minimum", bag.minimum);
    if (bag.exclusiveMinimum !== undefined)
        narrowMin(agg, "exclusiveMinimum", bag.exclusiveMinimum);
    if (bag.maximum !== undefined)
        narrowMax(agg, "maximum", bag.maximum);
    if (bag.exclusiveMaximum !== undefined)
        narrowMax(agg, "exclusiveMaximum", bag.exclusiveMaximum);
    if (bag.multipleOf !== undefined)
        addDivisor(agg, bag.multipleOf);
    if (bag.format !== undefined) {
        agg.format ?? (agg.format = bag.format);
        if (bag.format.includes("int"))
            agg.isInt = true;
    }
    if (bag.mime)
        intersectMime(agg, bag.mime);
    for (const pattern of bag.patterns ?? [])
        addPattern(agg, pattern);
    return agg;
}
const formatMap = {
    guid: "uuid",
    url: "uri",
    datetime: "date-time",
    json_string: "json-string",
    regex: "", // do not set
};
// ==================== SIMPLE TYPE PROCESSORS ====================
// the runtime patterns are lax so parse paths never overflow the regex stack; the emitted schema swaps in the exact block forms, which zod itself never executes
const exactPatterns = new Map([
    [base64Charset, base64],
    [base64urlCharset, base64url],
]);
const exactPattern = (p) => exactPatterns.get(p) ?? p;
const stringProcessor = (schema, ctx, _json, _params) => {
    const json = _json;
    json.type = "string";
    const { minimum, maximum, format, patterns, contentEncoding, laxFormat } = aggregateChecks(schema);
    if (typeof minimum === "number")
        json.minLength = minimum;
    if (typeof maximum === "number")
        json.maxLength = maximum;
    // custom pattern overrides format
    if (format) {
        json.format = formatMap[format] ?? format;
        if (json.format === "")
            delete json.format; // empty format is not valid
        // `z.iso.time()` is never full-time, and `laxFormat` carries the datetime shapes that also accept what their keyword forbids
        if (format === "time" || laxFormat) {
            delete json.format;
        }
    }
    if (contentEncoding)
        json.contentEncoding = contentEncoding;
    if (patterns && patterns.size > 0) {
        const patternList = [...patterns].map(exactPattern);
        if (patternList.length === 1)
            json.pattern = patternList[0].source;
        else if (patternList.length > 1) {
            json.allOf = [
                ...patternList.map((regex) => ({
                    ...(ctx.target === "draft-07" || ctx.target === "draft-04" || ctx.target === "openapi-3.0"
                        ? { type: "string" }
                        : {}),
                    pattern: regex.source,
                })),
            ];
        }
    }
};
const numberProcessor = (schema, ctx, _json, params) => {
    const json = _json;
    const { minimum, maximum, multipleOf, exclusiveMaximum, exclusiveMinimum, isInt } = aggregateChecks(schema);
    json.type = isInt ? "integer" : "number";
    // when both minimum and exclusiveMinimum exist, pick the more restrictive one
    const exMin = typeof exclusiveMinimum === "number" && exclusiveMinimum >= (minimum ?? Number.NEGATIVE_INFINITY);
    const exMax = typeof exclusiveMaximum === "number" && exclusiveMaximum <= (maximum ?? Number.POSITIVE_INFINITY);
    const legacy = ctx.target === "draft-04" || ctx.target === "openapi-3.0";
    if (exMin) {
        if (legacy) {
            json.minimum = exclusiveMinimum;
            json.exclusiveMinimum = true;
        }
        else {
            json.exclusiveMinimum = exclusiveMinimum;
        }
    }
    else if (typeof minimum === "number") {
        json.minimum = minimum;
    }
    if (exMax) {
        if (legacy) {
            json.maximum = exclusiveMaximum;
            json.exclusiveMaximum = true;
        }
        else {
            json.exclusiveMaximum = exclusiveMaximum;
        }
    }
    else if (typeof maximum === "number") {
        json.maximum = maximum;
    }
    if (multipleOf) {
        // JSON Schema requires a divisor strictly greater than zero, and a non-finite one does not survive JSON at all. A negative divisor accepts exactly what its absolute value accepts, so it still maps; zero, NaN and Infinity have no keyword form.
        const divisors = new Set();
        for (const divisor of multipleOf) {
            if (Number.isFinite(divisor) && divisor !== 0)
                divisors.add(Math.abs(divisor));
            else
                handleUnrepresentable(schema, ctx, json, params, `A multipleOf divisor of ${divisor} cannot be represented in JSON Schema`);
        }
        // chained divisors are a conjunction the keyword cannot carry alone, so extras ride an allOf, same as stacked patterns
        const [first, ...rest] = divisors;
        if (first !== undefined)
            json.multipleOf = first;
        if (rest.length)
            json.allOf = [...(json.allOf ?? []), ...rest.map((m) => ({ multipleOf: m }))];
    }
};
const booleanProcessor = (_schema, _ctx, json, _params) => {
    json.type = "boolean";
};
const neverProcessor = (_schema, _ctx, json, _params) => {
    json.not = {};
};
const unknownProcessor = (_schema, _ctx, _json, _params) => {
    // empty schema accepts anything
};
const enumProcessor = (schema, _ctx, json, _params) => {
    const def = schema._zod.def;
    const values = getEnumValues(def.entries);
    // an empty enum accepts nothing, same as z.never()
    if (values.length === 0) {
        json.not = {};
        return;
    }
    // Number enums can have both string and number values
    if (values.every((v) => typeof v === "number"))
        json.type = "number";
    if (values.every((v) => typeof v === "string"))
        json.type = "string";
    json.enum = values;
};
const literalProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    // a literal with no values accepts nothing, same as z.never()
    if (def.values.length === 0) {
        json.not = {};
        return;
    }
    const vals = [];
    for (const val of def.values) {
        if (val === undefined) {
            // a custom schema replaces the whole literal, so there is nothing left to accumulate
            if (handleUnrepresentable(schema, ctx, json, params, "Literal `undefined` cannot be represented in JSON Schema"))
                return;
            // otherwise do not add to vals
        }
        else if (typeof val === "bigint") {
            if (handleUnrepresentable(schema, ctx, json, params, "BigInt literals cannot be represented in JSON Schema"))
                return;
            vals.push(Number(val));
        }
        else {
            vals.push(val);
        }
    }
    if (vals.length === 0) ;
    else if (vals.length === 1) {
        const val = vals[0];
        json.type = val === null ? "null" : typeof val;
        if (ctx.target === "draft-04" || ctx.target === "openapi-3.0") {
            json.enum = [val];
        }
        else {
            json.const = val;
        }
    }
    else {
        if (vals.every((v) => typeof v === "number"))
            json.type = "number";
        if (vals.every((v) => typeof v === "string"))
            json.type = "string";
        if (vals.every((v) => typeof v === "boolean"))
            json.type = "boolean";
        if (vals.every((v) => v === null))
            json.type = "null";
        json.enum = vals;
    }
};
const customProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Custom types cannot be represented in JSON Schema");
};
const transformProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Transforms cannot be represented in JSON Schema");
};
// ==================== COMPOSITE TYPE PROCESSORS ====================
const arrayProcessor = (schema, ctx, _json, params) => {
    const json = _json;
    const def = schema._zod.def;
    const { minimum, maximum } = aggregateChecks(schema);
    if (typeof minimum === "number")
        json.minItems = minimum;
    if (typeof maximum === "number")
        json.maxItems = maximum;
    json.type = "array";
    json.items = processSchema(def.element, ctx, {
        ...params,
        path: [...params.path, "items"],
    });
};
// Transform and catch set `optin = "optional"` at runtime so the parser lets them observe an
// absent key, but their declared input type stays required. An input JSON Schema describes the
// declared type, so resolve past them to the schema that actually carries the optionality.
// Used by both `objectProcessor` (for `required`) and `tupleProcessor` (for `minItems`); see
// wiki/optionality.md, "The JSON Schema emitter reads the *static* value".
function inputOptin(schema) {
    const def = schema._zod.def;
    if (def.type === "pipe" && def.in._zod.traits.has("$ZodTransform")) {
        return inputOptin(def.out);
    }
    if (def.type === "catch") {
        return inputOptin(def.innerType);
    }
    return schema._zod.optin;
}
const objectProcessor = (schema, ctx, _json, params) => {
    const json = _json;
    const def = schema._zod.def;
    const shape = def.shape;
    // dropping it while still emitting `additionalProperties: false` would emit a schema that rejects data this one requires
    const symbolKeys = Object.getOwnPropertySymbols(shape);
    if (symbolKeys.length &&
        handleUnrepresentable(schema, ctx, json, params, "Symbol keys cannot be represented in JSON Schema")) {
        return;
    }
    json.type = "object";
    json.properties = {};
    for (const key in shape) {
        // assignProp so a __proto__ key becomes an own property instead of hitting the inherited setter on the plain {} we build into
        assignProp(json.properties, key, processSchema(shape[key], ctx, {
            ...params,
            path: [...params.path, "properties", key],
        }));
    }
    // required keys
    const requiredKeys = [];
    for (const key of Object.keys(shape)) {
        const field = def.shape[key];
        if (ctx.io === "input" ? inputOptin(field) === undefined : field._zod.optout === undefined) {
            requiredKeys.push(key);
        }
    }
    if (requiredKeys.length > 0) {
        json.required = requiredKeys;
    }
    // catchall
    if (def.catchall?._zod.def.type === "never") {
        // strict
        json.additionalProperties = false;
    }
    else if (!def.catchall) {
        // regular
        if (ctx.io === "output")
            json.additionalProperties = false;
    }
    else if (def.catchall) {
        json.additionalProperties = processSchema(def.catchall, ctx, {
            ...params,
            path: [...params.path, "additionalProperties"],
        });
    }
};
const unionProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    // Exclusive unions (inclusive === false) use oneOf (exactly one match) instead of anyOf (one or more matches). This includes both z.xor() and discriminated unions
    const isExclusive = def.inclusive === false;
    const options = def.options.map((x, i) => processSchema(x, ctx, {
        ...params,
        path: [...params.path, isExclusive ? "oneOf" : "anyOf", i],
    }));
    if (isExclusive) {
        json.oneOf = options;
    }
    else {
        json.anyOf = options;
    }
};
const intersectionProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    const a = processSchema(def.left, ctx, {
        ...params,
        path: [...params.path, "allOf", 0],
    });
    const b = processSchema(def.right, ctx, {
        ...params,
        path: [...params.path, "allOf", 1],
    });
    const isSimpleIntersection = (val) => "allOf" in val && Object.keys(val).length === 1;
    const allOf = [
        ...(isSimpleIntersection(a) ? a.allOf : [a]),
        ...(isSimpleIntersection(b) ? b.allOf : [b]),
    ];
    json.allOf = allOf;
    // Recorded innermost first, so a nested intersection has already folded by the time this one is considered. The array is the handle rather than the schema, because a wrapper that inherits this schema shares the same array; `finalize` folds every object holding it. See `foldIntersection`.
    ctx.intersections.push(allOf);
};
/** JSON object keys are always strings, so a numeric record key schema is re-expressed over the
 * numeric-string form the record parser matches. Deferred to `finalize`, after the flatten: a key
 * behind a wrapper only carries its own `type` before then, and a union key only has its branches.
 *
 * A numeric bound cannot apply to a property name, so `minimum` and its siblings are dropped rather
 * than carried over: keeping them beside `type: "string"` reproduces the match-nothing schema this
 * exists to fix. A key that carries one therefore emits wider than the record parses — `z.record(z.number().min(5), V)`
 * accepts `"3"` — which is the deliberate trade, since throwing on it would reject an ordinary schema
 * outright. */
function stringifyKeyNames(bySchema, json, visited) {
    // an extracted key that rewrites cannot go on sharing its definition — the string form a key position needs is not the number form every other reference wants — so it inlines. One that does not rewrite keeps the `$ref`.
    if (json.$ref) {
        // a recursive key holds its own reference inside its definition, so a node already on the path is left alone rather than resolved again
        if (visited.has(json))
            return json;
        visited.add(json);
        const def = bySchema.get(json)?.def;
        if (!def)
            return json;
        const inlined = stringifyKeyNames(bySchema, def, visited);
        return inlined === def ? json : inlined;
    }
    for (const keyword of ["anyOf", "oneOf"]) {
        const branches = json[keyword];
        if (!Array.isArray(branches))
            continue;
        const mapped = branches.map((branch) => stringifyKeyNames(bySchema, branch, visited));
        // rebuilding regardless would detach a key that had nothing to re-express, dropping its `$ref` and leaking the internal `id`
        if (mapped.some((branch, i) => branch !== branches[i]))
            json = { ...json, [keyword]: mapped };
    }
    // a member that already admits a string leaves the key unconstrained, so the node's own type re-expresses only when every member is numeric
    const types = Array.isArray(json.type) ? json.type : [json.type];
    const numericType = !types.includes("string") && types.some((t) => t === "number" || t === "integer");
    // a heterogeneous key carries no type at all, so its numeric members are caught here instead
    const values = json.enum ?? (json.const !== undefined ? [json.const] : undefined);
    if (!numericType && !values?.some((v) => typeof v === "number"))
        return json;
    const { minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf, format, id, ...rest } = json;
    if (rest.enum)
        rest.enum = rest.enum.map((v) => (typeof v === "number" ? String(v) : v));
    else if (typeof rest.const === "number")
        rest.const = String(rest.const);
    // a heterogeneous key keeps its absent type: the stringified members already say what a key may be
    if (!numericType)
        return rest;
    rest.type = "string";
    if (!values)
        rest.pattern = (types.includes("number") ? number$1 : integer).source;
    return rest;
}
/** Every record of one conversion, so the carriers are found in a single pass rather than once per record. */
const pendingRecords = new WeakMap();
function rewriteKeyNames(ctx) {
    // an extracted key is resolved by the object `extractToDef` left in its place, so the map is built once rather than searched per reference. `_zod.toJSONSchema` can hand the same object to two schemas, so the first entry carrying a body wins, as a search would have found it.
    const bySchema = new Map();
    for (const entry of ctx.seen.values()) {
        if (entry.def && !bySchema.has(entry.schema))
            bySchema.set(entry.schema, entry);
    }
    const rewrites = new Map();
    for (const record of pendingRecords.get(ctx) ?? []) {
        const seen = ctx.seen.get(record);
        const names = (seen?.def ?? seen?.schema)?.propertyNames;
        if (!names || names === true || rewrites.has(names))
            continue;
        const rewritten = stringifyKeyNames(bySchema, names, new Set());
        if (rewritten !== names)
            rewrites.set(names, rewritten);
    }
    if (!rewrites.size)
        return;
    // the flatten has already copied each record's own properties onto every wrapper by reference, and an extracted body is another such copy, so every carrier holding a rewritten key is updated together
    for (const entry of ctx.seen.values()) {
        for (const carrier of [entry.schema, entry.def]) {
            const rewritten = carrier && rewrites.get(carrier.propertyNames);
            if (rewritten)
                carrier.propertyNames = rewritten;
        }
    }
}
const recordProcessor = (schema, ctx, _json, params) => {
    const json = _json;
    const def = schema._zod.def;
    json.type = "object";
    // For looseRecord with regex patterns, use patternProperties. This correctly represents "only validate keys matching the pattern" semantics and composes well with allOf (intersections)
    const keyType = def.keyType;
    const patterns = aggregateChecks(keyType).patterns;
    if (def.mode === "loose" && patterns && patterns.size > 0) {
        // Use patternProperties for looseRecord with regex patterns
        const valueSchema = processSchema(def.valueType, ctx, {
            ...params,
            path: [...params.path, "patternProperties", "*"],
        });
        json.patternProperties = {};
        for (const pattern of patterns) {
            assignProp(json.patternProperties, exactPattern(pattern).source, valueSchema);
        }
    }
    else {
        // Default behavior: use propertyNames + additionalProperties
        if (ctx.target === "draft-07" || ctx.target === "draft-2020-12") {
            json.propertyNames = processSchema(def.keyType, ctx, {
                ...params,
                path: [...params.path, "propertyNames"],
            });
            let pending = pendingRecords.get(ctx);
            if (!pending) {
                pending = [];
                pendingRecords.set(ctx, pending);
                ctx.deferred.push(() => rewriteKeyNames(ctx));
            }
            pending.push(schema);
        }
        json.additionalProperties = processSchema(def.valueType, ctx, {
            ...params,
            path: [...params.path, "additionalProperties"],
        });
    }
    // Add required for keys with discrete values (enum, literal, etc.)
    const keyValues = keyType._zod.values;
    // Every key shares one value schema, so an optional-in value makes the whole key set omittable on input. Output keeps them: the exhaustive branch assigns every key, even one whose value came back undefined.
    const omittableOnInput = ctx.io === "input" && inputOptin(def.valueType) !== undefined;
    if (keyValues && !def.partial && !omittableOnInput) {
        const validKeyValues = [...keyValues].filter((v) => typeof v === "string" || typeof v === "number");
        if (validKeyValues.length > 0) {
            json.required = validKeyValues.map(String);
        }
    }
};
const nullableProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    const inner = processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    if (ctx.target === "openapi-3.0") {
        seen.ref = def.innerType;
        json.nullable = true;
    }
    else {
        json.anyOf = [inner, { type: "null" }];
    }
};
const nonoptionalProcessor = (schema, ctx, _json, params) => {
    const def = schema._zod.def;
    processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
};
/** Round-trips a default value through JSON so the emitted schema is guaranteed to be valid JSON.
 * A BigInt has no reliable encoding, so it goes through `unrepresentable` like any other
 * unrepresentable value. Returns a sentinel when the caller must not write a default of its own. */
const UNREPRESENTABLE_DEFAULT = Symbol();
function serializeDefaultValue(value, schema, ctx, json, params) {
    let unrepresentable = false;
    const serialized = JSON.stringify(value, (_, val) => {
        if (typeof val !== "bigint")
            return val;
        unrepresentable = true;
        return null;
    });
    if (!unrepresentable)
        return JSON.parse(serialized);
    handleUnrepresentable(schema, ctx, json, params, "BigInt defaults cannot be represented in JSON Schema");
    return UNREPRESENTABLE_DEFAULT;
}
const defaultProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
    const value = serializeDefaultValue(def.defaultValue, schema, ctx, json, params);
    if (value !== UNREPRESENTABLE_DEFAULT)
        json.default = value;
};
const prefaultProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
    if (ctx.io !== "input")
        return;
    const value = serializeDefaultValue(def.defaultValue, schema, ctx, json, params);
    if (value !== UNREPRESENTABLE_DEFAULT)
        json._prefault = value;
};
const catchProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
    let catchValue;
    try {
        catchValue = def.catchValue(undefined);
    }
    catch {
        handleUnrepresentable(schema, ctx, json, params, "Dynamic catch values are not supported in JSON Schema");
        return;
    }
    json.default = catchValue;
};
const pipeProcessor = (schema, ctx, _json, params) => {
    const def = schema._zod.def;
    const inIsTransform = def.in._zod.traits.has("$ZodTransform");
    const innerType = ctx.io === "input" ? (inIsTransform ? def.out : def.in) : def.out;
    processSchema(innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = innerType;
};
const readonlyProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
    json.readOnly = true;
};
const optionalProcessor = (schema, ctx, _json, params) => {
    const def = schema._zod.def;
    processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
};

/* Prototypes that already carry the lazy helper methods. Seeded with the
 * intrinsics so that `init` on a foreign object — it accepts any object —
 * can never install an accessor onto a prototype we do not own. */
const _installedErrorProtos = /* @__PURE__ */ new WeakSet([Object.prototype, Error.prototype]);
/* Helper methods live as non-enumerable lazy getters on the shared
 * prototype instead of own properties on every instance. On first
 * access the getter allocates the per-instance closure and caches it
 * as a non-enumerable own property, so detached usage still works and
 * the allocation only happens for methods actually touched. */
function _lazyMethod(proto, key, make) {
    Object.defineProperty(proto, key, {
        configurable: true,
        enumerable: false,
        get() {
            const value = make(this);
            Object.defineProperty(this, key, { value, configurable: true, writable: true });
            return value;
        },
        set(value) {
            Object.defineProperty(this, key, { value, configurable: true, writable: true });
        },
    });
}
const initializer = (inst, issues) => {
    $ZodError.init(inst, issues);
    inst.name = "ZodError";
    const proto = Object.getPrototypeOf(inst);
    if (_installedErrorProtos.has(proto))
        return;
    _installedErrorProtos.add(proto);
    _lazyMethod(proto, "format", (self) => (mapper) => formatError(self, mapper));
    _lazyMethod(proto, "flatten", (self) => (mapper) => flattenError(self, mapper));
    _lazyMethod(proto, "addIssue", (self) => (issue) => {
        self.issues.push(issue);
        self.message = JSON.stringify(self.issues, jsonStringifyReplacer, 2);
    });
    _lazyMethod(proto, "addIssues", (self) => (issues) => {
        self.issues.push(...issues);
        self.message = JSON.stringify(self.issues, jsonStringifyReplacer, 2);
    });
    Object.defineProperty(proto, "isEmpty", {
        configurable: true,
        enumerable: false,
        get() {
            return this.issues.length === 0;
        },
    });
};
const ZodRealError = /*@__PURE__*/ $constructor("ZodError", initializer, undefined, {
    Parent: Error,
});
// /** @deprecated Use `z.core.$ZodErrorMapCtx` instead. */
// export type ErrorMapCtx = core.$ZodErrorMapCtx;

const parse$1 = /* @__PURE__ */ _parse(ZodRealError);
const parseAsync = /* @__PURE__ */ _parseAsync(ZodRealError);
const safeParse = /* @__PURE__ */ _safeParse(ZodRealError);
const safeParseAsync = /* @__PURE__ */ _safeParseAsync(ZodRealError);
// Codec functions
const encode = /* @__PURE__ */ _encode(ZodRealError);
const decode = /* @__PURE__ */ _decode(ZodRealError);
const encodeAsync = /* @__PURE__ */ _encodeAsync(ZodRealError);
const decodeAsync = /* @__PURE__ */ _decodeAsync(ZodRealError);
const safeEncode = /* @__PURE__ */ _safeEncode(ZodRealError);
const safeDecode = /* @__PURE__ */ _safeDecode(ZodRealError);
const safeEncodeAsync = /* @__PURE__ */ _safeEncodeAsync(ZodRealError);
const safeDecodeAsync = /* @__PURE__ */ _safeDecodeAsync(ZodRealError);

// Register English as the default locale on first ZodType construction. Hooked into the `ZodType` `$constructor` (rather than a top-level `config(en())` in `external.ts`) so bundlers honoring `sideEffects: false` can't tree-shake it out — see #5953, #5725. An explicit `z.config(z.locales.xx())` call wins regardless of order, since this only sets the default when none is present.
function _ensureDefaultLocale() {
    if (!globalConfig.localeError)
        config(en());
}
// the default memoizer is read by the core container init, which runs before `ZodType.init`, so each container calls this first
function _ensureDefaultMemoizer() {
    if (!globalConfig.memoizer)
        config({ memoizer: memoizer() });
}
const ZodType = /*@__PURE__*/ $constructor("ZodType", (inst, def) => {
    _ensureDefaultLocale();
    $ZodType.init(inst, def);
    inst.def = def;
    inst.type = def.type;
    return inst;
}, {
    check(...chks) {
        const def = this.def;
        return this.clone(mergeDefs(def, {
            checks: [
                ...(def.checks ?? []),
                ...chks.map((ch) => typeof ch === "function" ? { _zod: { check: ch, def: { check: "custom" }, onattach: [] } } : ch),
            ],
        }), { parent: true });
    },
    with(...chks) {
        return this.check(...chks);
    },
    clone(def, params) {
        return clone(this, def, params);
    },
    brand() {
        return this;
    },
    register(reg, meta) {
        reg.add(this, meta);
        return this;
    },
    refine(check, params) {
        return this.check(refine(check, params));
    },
    superRefine(refinement, params) {
        return this.check(superRefine(refinement, params));
    },
    overwrite(fn) {
        return this.check(_overwrite(fn));
    },
    optional() {
        return optional$1(this);
    },
    exactOptional() {
        return exactOptional(this);
    },
    nullable() {
        return nullable(this);
    },
    nullish() {
        return optional$1(nullable(this));
    },
    nonoptional(params) {
        return nonoptional(this, params);
    },
    array() {
        return array(this);
    },
    or(arg) {
        return union([this, arg]);
    },
    and(arg) {
        return intersection(this, arg);
    },
    transform(tx) {
        return pipe(this, transform(tx));
    },
    default(d) {
        return _default(this, d);
    },
    prefault(d) {
        return prefault(this, d);
    },
    catch(params) {
        return _catch(this, params);
    },
    pipe(target) {
        return pipe(this, target);
    },
    readonly() {
        return readonly(this);
    },
    describe(description) {
        const cl = this.clone();
        globalRegistry.add(cl, { description });
        return cl;
    },
    meta(...args) {
        // overloaded: meta() returns the registered metadata, meta(data) returns a clone with `data` registered. The mapped type picks up the second overload, so we accept variadic any-args and return `any` to satisfy both at runtime.
        if (args.length === 0)
            return globalRegistry.get(this);
        const cl = this.clone();
        globalRegistry.add(cl, args[0]);
        return cl;
    },
    isOptional() {
        return this.safeParse(undefined).success;
    },
    isNullable() {
        return this.safeParse(null).success;
    },
    apply(fn, ...args) {
        return args.length === 0 ? fn(this) : fn(this, ...args);
    },
    // Overrides core's `~standard` to add `jsonSchema`. Must stay a prototype entry: redefining it per instance demotes instances to dictionary mode.
    get "~standard"() {
        return hide(this, "~standard", {
            ...standardProps(this),
            jsonSchema: {
                input: createStandardJSONSchemaMethod(this, "input"),
                output: createStandardJSONSchemaMethod(this, "output"),
            },
        });
    },
    set "~standard"(value) {
        own(this, "~standard", value);
    },
    parse: function _parse(data, params) {
        return parse$1(this, data, params, { callee: _parse });
    },
    parseAsync: async function _parseAsync(data, params) {
        return await parseAsync(this, data, params, { callee: _parseAsync });
    },
    safeParse(data, params) {
        return safeParse(this, data, params);
    },
    async safeParseAsync(data, params) {
        return safeParseAsync(this, data, params);
    },
    // `spa` is an alias: same function object as `safeParseAsync`, as before.
    get spa() {
        return this?.safeParseAsync;
    },
    set spa(value) {
        own(this, "spa", value);
    },
    validate(data, params) {
        return validate(this, data, params);
    },
    validateAsync(data, params) {
        return validateAsync$1(this, data, params);
    },
    encode: function _encode(data, params) {
        return encode(this, data, params, { callee: _encode });
    },
    decode: function _decode(data, params) {
        return decode(this, data, params, { callee: _decode });
    },
    encodeAsync: async function _encodeAsync(data, params) {
        return await encodeAsync(this, data, params, { callee: _encodeAsync });
    },
    decodeAsync: async function _decodeAsync(data, params) {
        return await decodeAsync(this, data, params, { callee: _decodeAsync });
    },
    safeEncode(data, params) {
        return safeEncode(this, data, params);
    },
    safeDecode(data, params) {
        return safeDecode(this, data, params);
    },
    async safeEncodeAsync(data, params) {
        return safeEncodeAsync(this, data, params);
    },
    async safeDecodeAsync(data, params) {
        return safeDecodeAsync(this, data, params);
    },
    toJSONSchema(params) {
        return createToJSONSchemaMethod(this, {})(params);
    },
    // Reads through to the registry on every access, so it must not cache.
    get description() {
        return globalRegistry.get(this)?.description;
    },
    // No setter: `schema._def = x` throws, as it did when `_def` was a non-writable own property.
    get _def() {
        return this._zod.def;
    },
});
/** @internal */
const _ZodString = /*@__PURE__*/ $constructor("_ZodString", (inst, def) => {
    $ZodString.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => stringProcessor(inst, ctx, json);
}, 
/*@__PURE__*/ derived({
    format: (inst) => aggregateChecks(inst).format ?? null,
    minLength: (inst) => aggregateChecks(inst).minimum ?? null,
    maxLength: (inst) => aggregateChecks(inst).maximum ?? null,
}, {
    regex(...args) {
        return this.check(_regex(...args));
    },
    includes(...args) {
        return this.check(_includes(...args));
    },
    startsWith(...args) {
        return this.check(_startsWith(...args));
    },
    endsWith(...args) {
        return this.check(_endsWith(...args));
    },
    min(...args) {
        return this.check(_minLength(...args));
    },
    max(...args) {
        return this.check(_maxLength(...args));
    },
    length(...args) {
        return this.check(_length(...args));
    },
    nonempty(...args) {
        return this.check(_minLength(1, ...args));
    },
    lowercase(params) {
        return this.check(_lowercase(params));
    },
    uppercase(params) {
        return this.check(_uppercase(params));
    },
    trim() {
        return this.check(_trim());
    },
    normalize(...args) {
        return this.check(_normalize(...args));
    },
    toLowerCase() {
        return this.check(_toLowerCase());
    },
    toUpperCase() {
        return this.check(_toUpperCase());
    },
    slugify() {
        return this.check(_slugify());
    },
}));
const ZodString = /*@__PURE__*/ $constructor("ZodString", (inst, def) => {
    $ZodString.init(inst, def);
    _ZodString.init(inst, def);
}, {
    email(params) {
        return this.check(_email(ZodEmail, params));
    },
    url(params) {
        return this.check(_url(ZodURL, params));
    },
    jwt(params) {
        return this.check(_jwt(ZodJWT, params));
    },
    emoji(params) {
        return this.check(_emoji(ZodEmoji, params));
    },
    guid(params) {
        return this.check(_guid(ZodGUID, params));
    },
    uuid(params) {
        return this.check(_uuid(ZodUUID, params));
    },
    uuidv4(params) {
        return this.check(_uuidv4(ZodUUID, params));
    },
    uuidv6(params) {
        return this.check(_uuidv6(ZodUUID, params));
    },
    uuidv7(params) {
        return this.check(_uuidv7(ZodUUID, params));
    },
    nanoid(params) {
        return this.check(_nanoid(ZodNanoID, params));
    },
    cuid(params) {
        return this.check(_cuid(ZodCUID, params));
    },
    cuid2(params) {
        return this.check(_cuid2(ZodCUID2, params));
    },
    ulid(params) {
        return this.check(_ulid(ZodULID, params));
    },
    base64(params) {
        return this.check(_base64(ZodBase64, params));
    },
    base64url(params) {
        return this.check(_base64url(ZodBase64URL, params));
    },
    xid(params) {
        return this.check(_xid(ZodXID, params));
    },
    ksuid(params) {
        return this.check(_ksuid(ZodKSUID, params));
    },
    ipv4(params) {
        return this.check(_ipv4(ZodIPv4, params));
    },
    ipv6(params) {
        return this.check(_ipv6(ZodIPv6, params));
    },
    cidrv4(params) {
        return this.check(_cidrv4(ZodCIDRv4, params));
    },
    cidrv6(params) {
        return this.check(_cidrv6(ZodCIDRv6, params));
    },
    e164(params) {
        return this.check(_e164(ZodE164, params));
    },
    datetime(params) {
        return this.check(_isoDateTime(ZodISODateTime, params));
    },
    date(params) {
        return this.check(_isoDate(ZodISODate, params));
    },
    time(params) {
        return this.check(_isoTime(ZodISOTime, params));
    },
    duration(params) {
        return this.check(_isoDuration(ZodISODuration, params));
    },
});
function string(params) {
    return _string(ZodString, params);
}
const ZodStringFormat = /*@__PURE__*/ $constructor("ZodStringFormat", (inst, def) => {
    $ZodStringFormat.init(inst, def);
    _ZodString.init(inst, def);
});
const ZodISODateTime = /*@__PURE__*/ $constructor("ZodISODateTime", (inst, def) => {
    $ZodISODateTime.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodISODate = /*@__PURE__*/ $constructor("ZodISODate", (inst, def) => {
    $ZodISODate.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodISOTime = /*@__PURE__*/ $constructor("ZodISOTime", (inst, def) => {
    $ZodISOTime.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodISODuration = /*@__PURE__*/ $constructor("ZodISODuration", (inst, def) => {
    $ZodISODuration.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodEmail = /*@__PURE__*/ $constructor("ZodEmail", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodEmail.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodGUID = /*@__PURE__*/ $constructor("ZodGUID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodGUID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodUUID = /*@__PURE__*/ $constructor("ZodUUID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodUUID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodURL = /*@__PURE__*/ $constructor("ZodURL", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodURL.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodEmoji = /*@__PURE__*/ $constructor("ZodEmoji", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodEmoji.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodNanoID = /*@__PURE__*/ $constructor("ZodNanoID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodNanoID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
/**
 * @deprecated CUID v1 is deprecated by its authors due to information leakage
 * (timestamps embedded in the id). Use {@link ZodCUID2} instead.
 * See https://github.com/paralleldrive/cuid.
 */
const ZodCUID = /*@__PURE__*/ $constructor("ZodCUID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodCUID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodCUID2 = /*@__PURE__*/ $constructor("ZodCUID2", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodCUID2.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodULID = /*@__PURE__*/ $constructor("ZodULID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodULID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodXID = /*@__PURE__*/ $constructor("ZodXID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodXID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodKSUID = /*@__PURE__*/ $constructor("ZodKSUID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodKSUID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodIPv4 = /*@__PURE__*/ $constructor("ZodIPv4", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodIPv4.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodIPv6 = /*@__PURE__*/ $constructor("ZodIPv6", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodIPv6.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodCIDRv4 = /*@__PURE__*/ $constructor("ZodCIDRv4", (inst, def) => {
    $ZodCIDRv4.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodCIDRv6 = /*@__PURE__*/ $constructor("ZodCIDRv6", (inst, def) => {
    $ZodCIDRv6.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodBase64 = /*@__PURE__*/ $constructor("ZodBase64", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodBase64.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodBase64URL = /*@__PURE__*/ $constructor("ZodBase64URL", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodBase64URL.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodE164 = /*@__PURE__*/ $constructor("ZodE164", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodE164.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodJWT = /*@__PURE__*/ $constructor("ZodJWT", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodJWT.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodNumber = /*@__PURE__*/ $constructor("ZodNumber", (inst, def) => {
    $ZodNumber.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => numberProcessor(inst, ctx, json, params);
    inst.isFinite = true;
}, 
/*@__PURE__*/ derived({
    minValue: (inst) => {
        const { minimum, exclusiveMinimum } = aggregateChecks(inst);
        return Math.max(minimum ?? Number.NEGATIVE_INFINITY, exclusiveMinimum ?? Number.NEGATIVE_INFINITY);
    },
    maxValue: (inst) => {
        const { maximum, exclusiveMaximum } = aggregateChecks(inst);
        return Math.min(maximum ?? Number.POSITIVE_INFINITY, exclusiveMaximum ?? Number.POSITIVE_INFINITY);
    },
    isInt: (inst) => {
        const { isInt, multipleOf } = aggregateChecks(inst);
        return !!isInt || !!multipleOf?.some(Number.isSafeInteger);
    },
    format: (inst) => aggregateChecks(inst).format ?? null,
}, {
    gt(value, params) {
        return this.check(_gt(value, params));
    },
    gte(value, params) {
        return this.check(_gte(value, params));
    },
    min(value, params) {
        return this.check(_gte(value, params));
    },
    lt(value, params) {
        return this.check(_lt(value, params));
    },
    lte(value, params) {
        return this.check(_lte(value, params));
    },
    max(value, params) {
        return this.check(_lte(value, params));
    },
    int(params) {
        return this.check(int(params));
    },
    safe(params) {
        return this.check(int(params));
    },
    positive(params) {
        return this.check(_gt(0, params));
    },
    nonnegative(params) {
        return this.check(_gte(0, params));
    },
    negative(params) {
        return this.check(_lt(0, params));
    },
    nonpositive(params) {
        return this.check(_lte(0, params));
    },
    multipleOf(value, params) {
        return this.check(_multipleOf(value, params));
    },
    step(value, params) {
        return this.check(_multipleOf(value, params));
    },
    finite() {
        return this;
    },
}));
function number(params) {
    return _number(ZodNumber, params);
}
const ZodNumberFormat = /*@__PURE__*/ $constructor("ZodNumberFormat", (inst, def) => {
    $ZodNumberFormat.init(inst, def);
    ZodNumber.init(inst, def);
});
function int(params) {
    return _int(ZodNumberFormat, params);
}
const ZodBoolean = /*@__PURE__*/ $constructor("ZodBoolean", (inst, def) => {
    $ZodBoolean.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => booleanProcessor(inst, ctx, json);
});
function boolean(params) {
    return _boolean(ZodBoolean, params);
}
const ZodUnknown = /*@__PURE__*/ $constructor("ZodUnknown", (inst, def) => {
    $ZodUnknown.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => unknownProcessor();
});
function unknown() {
    return _unknown(ZodUnknown);
}
const ZodNever = /*@__PURE__*/ $constructor("ZodNever", (inst, def) => {
    $ZodNever.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => neverProcessor(inst, ctx, json);
});
function never(params) {
    return _never(ZodNever, params);
}
const ZodArray = /*@__PURE__*/ $constructor("ZodArray", (inst, def) => {
    _ensureDefaultMemoizer();
    $ZodArray.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => arrayProcessor(inst, ctx, json, params);
    inst.element = def.element;
}, {
    min(n, params) {
        return this.check(_minLength(n, params));
    },
    nonempty(params) {
        return this.check(_minLength(1, params));
    },
    max(n, params) {
        return this.check(_maxLength(n, params));
    },
    length(n, params) {
        return this.check(_length(n, params));
    },
    unwrap() {
        return this.element;
    },
});
function array(element, params) {
    return _array(ZodArray, element, params);
}
const ZodObject = /*@__PURE__*/ $constructor("ZodObject", (inst, def) => {
    _ensureDefaultMemoizer();
    $ZodObjectJIT.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => objectProcessor(inst, ctx, json, params);
    installLazyProp(inst, "shape", (self) => self._zod.def.shape, false);
}, {
    keyof() {
        return _enum(Object.keys(this._zod.def.shape));
    },
    catchall(catchall) {
        // `mergeDefs` rather than a spread: spreading reads `shape`, and resolving it can mint a whole fresh subtree
        return this.clone(mergeDefs(this._zod.def, { catchall: catchall }));
    },
    passthrough() {
        return this.clone(mergeDefs(this._zod.def, { catchall: unknown() }));
    },
    loose() {
        return this.clone(mergeDefs(this._zod.def, { catchall: unknown() }));
    },
    strict() {
        return this.clone(mergeDefs(this._zod.def, { catchall: never() }));
    },
    strip() {
        return this.clone(mergeDefs(this._zod.def, { catchall: undefined }));
    },
    extend(incoming) {
        return extend(this, incoming);
    },
    safeExtend(incoming) {
        return safeExtend(this, incoming);
    },
    merge(other) {
        return merge(this, other);
    },
    pick(mask) {
        return pick(this, mask);
    },
    omit(mask) {
        return omit(this, mask);
    },
    partial(...args) {
        return partial(ZodOptional, this, args[0]);
    },
    exactPartial(...args) {
        return partial(ZodExactOptional, this, args[0], "exactPartial");
    },
    required(...args) {
        return required(ZodNonOptional, this, args[0]);
    },
});
function object(shape, params) {
    const def = {
        type: "object",
        shape: shape ?? {},
        ...normalizeParams(params),
    };
    return new ZodObject(def);
}
const ZodUnion = /*@__PURE__*/ $constructor("ZodUnion", (inst, def) => {
    $ZodUnion.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => unionProcessor(inst, ctx, json, params);
    inst.options = def.options;
});
function union(options, params) {
    return new ZodUnion({
        type: "union",
        options: options,
        ...normalizeParams(params),
    });
}
const ZodDiscriminatedUnion = /*@__PURE__*/ $constructor("ZodDiscriminatedUnion", (inst, def) => {
    ZodUnion.init(inst, def);
    $ZodDiscriminatedUnion.init(inst, def);
});
function discriminatedUnion(discriminator, options, params) {
    // const [options, params] = args;
    return new ZodDiscriminatedUnion({
        type: "union",
        options: options,
        discriminator,
        ...normalizeParams(params),
    });
}
const ZodIntersection = /*@__PURE__*/ $constructor("ZodIntersection", (inst, def) => {
    $ZodIntersection.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => intersectionProcessor(inst, ctx, json, params);
});
function intersection(left, right) {
    return new ZodIntersection({
        type: "intersection",
        left: left,
        right: right,
    });
}
const ZodRecord = /*@__PURE__*/ $constructor("ZodRecord", (inst, def) => {
    _ensureDefaultMemoizer();
    $ZodRecord.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => recordProcessor(inst, ctx, json, params);
    inst.keyType = def.keyType;
    inst.valueType = def.valueType;
});
function record(keyType, valueType, params) {
    // v3-compat: z.record(valueType, params?) — defaults keyType to z.string()
    if (!valueType || !valueType._zod) {
        return new ZodRecord({
            type: "record",
            keyType: string(),
            valueType: keyType,
            ...normalizeParams(valueType),
        });
    }
    return new ZodRecord({
        type: "record",
        keyType,
        valueType: valueType,
        ...normalizeParams(params),
    });
}
// type alksjf = core.output<core.$ZodRecordKey>;
function partialRecord(keyType, valueType, params) {
    return new ZodRecord({
        type: "record",
        keyType,
        valueType: valueType,
        ...normalizeParams(params),
        partial: true,
    });
}
const ZodEnum = /*@__PURE__*/ $constructor("ZodEnum", (inst, def) => {
    $ZodEnum.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => enumProcessor(inst, ctx, json);
    inst.enum = def.entries;
    // reuse the parsed value set so a numeric TS enum's reverse-mapping keys stay out
    inst.options = [...inst._zod.values];
    const keys = new Set(Object.keys(def.entries));
    inst.extract = (values, params) => {
        const newEntries = {};
        for (const value of values) {
            if (keys.has(value)) {
                newEntries[value] = def.entries[value];
            }
            else
                throw new Error(`Key ${value} not found in enum`);
        }
        return new ZodEnum({
            ...def,
            checks: [],
            ...normalizeParams(params),
            entries: newEntries,
        });
    };
    inst.exclude = (values, params) => {
        const newEntries = { ...def.entries };
        for (const value of values) {
            if (keys.has(value)) {
                delete newEntries[value];
            }
            else
                throw new Error(`Key ${value} not found in enum`);
        }
        return new ZodEnum({
            ...def,
            checks: [],
            ...normalizeParams(params),
            entries: newEntries,
        });
    };
});
function _enum(values, params) {
    const entries = Array.isArray(values) ? Object.fromEntries(values.map((v) => [v, v])) : values;
    return new ZodEnum({
        type: "enum",
        entries,
        ...normalizeParams(params),
    });
}
const ZodLiteral = /*@__PURE__*/ $constructor("ZodLiteral", (inst, def) => {
    $ZodLiteral.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => literalProcessor(inst, ctx, json, params);
    inst.values = new Set(def.values);
    Object.defineProperty(inst, "value", {
        get() {
            if (def.values.length > 1) {
                throw new Error("This schema contains multiple valid literal values. Use `.values` instead.");
            }
            return def.values[0];
        },
    });
});
function literal(value, params) {
    return new ZodLiteral({
        type: "literal",
        values: Array.isArray(value) ? value : [value],
        ...normalizeParams(params),
    });
}
const ZodTransform = /*@__PURE__*/ $constructor("ZodTransform", (inst, def) => {
    _ensureDefaultMemoizer();
    $ZodTransform.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => transformProcessor(inst, ctx, json, params);
    inst._zod.parse = (payload, _ctx) => {
        if (_ctx.direction === "backward") {
            throw new $ZodEncodeError(inst.constructor.name);
        }
        payload.addIssue = (issue$1) => {
            if (typeof issue$1 === "string") {
                payload.issues.push(issue(issue$1, payload.value, def));
            }
            else {
                // for Zod 3 backwards compatibility
                const _issue = issue$1;
                if (_issue.fatal)
                    _issue.continue = false;
                _issue.code ?? (_issue.code = "custom");
                if (!("input" in _issue))
                    _issue.input = payload.value;
                _issue.inst ?? (_issue.inst = inst);
                // _issue.continue ??= true;
                payload.issues.push(issue(_issue));
            }
        };
        const output = def.transform(payload.value, payload);
        if (output instanceof Promise) {
            return output.then((output) => {
                payload.value = output;
                return payload;
            });
        }
        payload.value = output;
        return payload;
    };
});
function transform(fn) {
    return new ZodTransform({
        type: "transform",
        transform: fn,
    });
}
const ZodOptional = /*@__PURE__*/ $constructor("ZodOptional", (inst, def) => {
    $ZodOptional.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => optionalProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
});
function optional$1(innerType) {
    return new ZodOptional({
        type: "optional",
        innerType: innerType,
    });
}
const ZodExactOptional = /*@__PURE__*/ $constructor("ZodExactOptional", (inst, def) => {
    $ZodExactOptional.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => optionalProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
});
function exactOptional(innerType) {
    return new ZodExactOptional({
        type: "optional",
        innerType: innerType,
    });
}
const ZodNullable = /*@__PURE__*/ $constructor("ZodNullable", (inst, def) => {
    $ZodNullable.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => nullableProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
});
function nullable(innerType) {
    return new ZodNullable({
        type: "nullable",
        innerType: innerType,
    });
}
const ZodDefault = /*@__PURE__*/ $constructor("ZodDefault", (inst, def) => {
    $ZodDefault.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => defaultProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
    inst.removeDefault = inst.unwrap;
});
function _default(innerType, defaultValue) {
    return new ZodDefault({
        type: "default",
        innerType: innerType,
        get defaultValue() {
            return typeof defaultValue === "function" ? defaultValue() : shallowClone(defaultValue);
        },
    });
}
const ZodPrefault = /*@__PURE__*/ $constructor("ZodPrefault", (inst, def) => {
    $ZodPrefault.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => prefaultProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
});
function prefault(innerType, defaultValue) {
    return new ZodPrefault({
        type: "prefault",
        innerType: innerType,
        get defaultValue() {
            return typeof defaultValue === "function" ? defaultValue() : shallowClone(defaultValue);
        },
    });
}
const ZodNonOptional = /*@__PURE__*/ $constructor("ZodNonOptional", (inst, def) => {
    $ZodNonOptional.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => nonoptionalProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
});
function nonoptional(innerType, params) {
    return new ZodNonOptional({
        type: "nonoptional",
        innerType: innerType,
        ...normalizeParams(params),
    });
}
const ZodCatch = /*@__PURE__*/ $constructor("ZodCatch", (inst, def) => {
    $ZodCatch.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => catchProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
    inst.removeCatch = inst.unwrap;
});
function _catch(innerType, catchValue) {
    return new ZodCatch({
        type: "catch",
        innerType: innerType,
        catchValue: (typeof catchValue === "function" ? catchValue : constantCatch(catchValue)),
    });
}
const ZodPipe = /*@__PURE__*/ $constructor("ZodPipe", (inst, def) => {
    $ZodPipe.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => pipeProcessor(inst, ctx, json, params);
    inst.in = def.in;
    inst.out = def.out;
});
function pipe(in_, out) {
    return new ZodPipe({
        type: "pipe",
        in: in_,
        out: out,
        // ...util.normalizeParams(params),
    });
}
const ZodReadonly = /*@__PURE__*/ $constructor("ZodReadonly", (inst, def) => {
    $ZodReadonly.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => readonlyProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
});
function readonly(innerType) {
    return new ZodReadonly({
        type: "readonly",
        innerType: innerType,
    });
}
const ZodCustom = /*@__PURE__*/ $constructor("ZodCustom", (inst, def) => {
    $ZodCustom.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => customProcessor(inst, ctx, json, params);
});
function refine(fn, _params = {}) {
    return _refine(ZodCustom, fn, _params);
}
// superRefine
function superRefine(fn, params) {
    return _superRefine(fn, params);
}

// The record of the database connections the worker's processes opened (connections.py writes one
// JSON line per connection into the run's folder). The worker runs untrusted code and may have
// written anything there, so the file is outside data: read within a size bound, without
// following a symlink or waiting on a FIFO, each line parsed and schema-checked, every text
// scrubbed, and only then aggregated into one identity per (role, where, source).
/** Connections file name inside the run's folder. */
const CONNECTIONS_FILE = 'connections.jsonl';
/** Read at most this much of the file; a worker that wrote more is said to have. */
const CONNECTIONS_MAX_BYTES = 1024 * 1024;
const FIELD_MAX$2 = 200;
/** Distinct identities kept (each is a line of evidence at most). */
const IDENTITIES_MAX = 100;
let schema$1;
function lineSchema$2() {
    schema$1 ??= object({
        role: string().min(1).max(FIELD_MAX$2),
        source: _enum(['psycopg', 'psycopg2', 'sqlalchemy']),
        where: string().max(FIELD_MAX$2).nullish(),
        application_name: string().max(FIELD_MAX$2).nullish()
    });
    return schema$1;
}
/** Printable, short, scrubbed: a control character or a secret in the file must not reach the report. */
function clean(text, redact) {
    return redact(text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')).slice(0, FIELD_MAX$2);
}
/**
 * The non-empty lines of a record the worker's processes wrote (untrusted), each parsed as JSON and
 * checked against `schema`; a line that is not JSON or does not fit is counted, never shown.
 */
function parseRecordLines(text, schema) {
    const lines = [];
    let rejected = 0;
    for (const raw of text.split('\n')) {
        if (!raw.trim())
            continue;
        let value;
        try {
            value = JSON.parse(raw);
        }
        catch {
            rejected++;
            continue;
        }
        const parsed = schema.safeParse(value);
        if (parsed.success)
            lines.push(parsed.data);
        else
            rejected++;
    }
    return { lines, rejected };
}
/** Parses the file's text (its first CONNECTIONS_MAX_BYTES) into identities. */
function parseConnections(text, redact) {
    const byKey = new Map();
    const { lines, rejected: notUnderstood } = parseRecordLines(text, lineSchema$2());
    let rejected = notUnderstood;
    for (const line of lines) {
        const role = clean(line.role, redact);
        const where = clean(line.where || 'unknown', redact);
        const source = line.source;
        const key = JSON.stringify([role, where, source]);
        const seen = byKey.get(key);
        if (seen)
            seen.count++;
        else if (byKey.size < IDENTITIES_MAX) {
            const app = line.application_name;
            byKey.set(key, { role, where, source, count: 1, ...(app ? { applicationName: clean(app, redact) } : {}) });
        }
        else
            rejected++;
    }
    return { identities: [...byKey.values()], rejected };
}
/**
 * The first CONNECTIONS_MAX_BYTES of `file` (a path inside the run's folder) as text, without
 * following a symlink or waiting on a FIFO; a line cut by the bound is dropped. `undefined` text:
 * no file (missing) or not a regular file / unreadable (said as one rejected entry).
 */
function readBounded(file) {
    let fd;
    try {
        fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    }
    catch {
        return { truncated: false, missing: true };
    }
    try {
        const stat = fstatSync(fd);
        if (!stat.isFile())
            return { truncated: false, missing: false };
        const size = Math.min(stat.size, CONNECTIONS_MAX_BYTES);
        const buf = Buffer.alloc(size);
        let got = 0;
        while (got < size) {
            const n = readSync(fd, buf, got, size - got, got);
            if (n <= 0)
                break;
            got += n;
        }
        let text = buf.subarray(0, got).toString('utf8');
        const truncated = stat.size > CONNECTIONS_MAX_BYTES;
        // A line cut by the bound is not judged half-read.
        if (truncated)
            text = text.slice(0, Math.max(0, text.lastIndexOf('\n')));
        return { text, truncated, missing: false };
    }
    catch {
        return { truncated: false, missing: false };
    }
    finally {
        closeSync(fd);
    }
}
/** Reads the record from `file` (a path inside the run's folder), bounded; never throws. */
function readConnections(file, redact) {
    const { text, truncated, missing } = readBounded(file);
    if (text === undefined)
        return { identities: [], rejected: missing ? 0 : 1, truncated, missing };
    return { ...parseConnections(text, redact), truncated, missing };
}
/** "app.db via psycopg: 3 connections as postgres" */
function describeIdentity(i) {
    return `${i.where} via ${i.source}: ${i.count} connection${i.count === 1 ? '' : 's'} as ${i.role}`;
}

// Which environment variables the worker's code read during the run (envreads.py appends one JSON
// line per variable and process into the run's folder: the name and the first reader, never a
// value). rls-role judges a DSN-shaped variable the app read like any configured identity, and only
// notes one the worker inherited but never read. Written by the worker's own process (untrusted
// code), so read like the connection record: bounded, no symlink, each line schema-checked.
/** File name inside the run's folder (bootstrap.py has envreads.py write it beside the record). */
const ENV_READS_FILE = 'env-reads.jsonl';
/** Distinct names kept; more means the record cannot say which were not read (see `complete`). */
const NAMES_MAX = 2000;
/** What envreads.py writes (and configured.py shows in `env NAME`): a plain name. */
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const lineSchema$1 = union([
    object({ name: string().regex(NAME), by: string().max(200).nullish(), pid: number().int().nullish() }),
    object({ overflow: literal(true), pid: number().int().nullish() })
]);
/** Parses envreads.py's lines; the first reader of a name is kept. */
function parseEnvReads(body, redact) {
    const read = new Map();
    const { lines, rejected } = parseRecordLines(body, lineSchema$1);
    let overflow = false;
    for (const line of lines) {
        if ('overflow' in line)
            overflow = true;
        else if (read.has(line.name))
            continue;
        else if (read.size < NAMES_MAX)
            read.set(line.name, clean(line.by || 'unknown', redact));
        else
            overflow = true;
    }
    return { read, rejected, overflow };
}
/** Reads the record beside the connection record `connectionsFile`; never throws. */
function readEnvReads(connectionsFile, redact) {
    const { text, truncated, missing } = readBounded(path.join(path.dirname(connectionsFile), ENV_READS_FILE));
    if (text === undefined)
        return { read: new Map(), rejected: missing ? 0 : 1, truncated, missing, overflow: false };
    return { ...parseEnvReads(text, redact), truncated, missing };
}
/**
 * Whether the record can tell an unread variable: not missing, not cut, every line understood. A
 * name lost in a cut or a garbled line may be one the app read, so then every variable counts as read.
 */
function complete(reads) {
    return !!reads && !reads.missing && !reads.truncated && !reads.rejected && !reads.overflow;
}
/** The environment variable a configured identity came from (configured.py's `env NAME`, `env NAME[key]` for JSON in it), if a plain name. */
function envNameOf(where) {
    const name = where.startsWith('env ') ? where.slice(4).replace(/\[.*$/, '') : undefined;
    return name !== undefined && NAME.test(name) ? name : undefined;
}
/** Why the record cannot tell (for the gate's evidence). */
function incompleteReason(reads) {
    if (!reads || reads.missing)
        return 'the worker left no record';
    if (reads.truncated)
        return 'the record was cut at its size bound';
    if (reads.overflow)
        return 'more names were read than the record keeps';
    return `${reads.rejected} entries of the record were not understood`;
}

// The database identities the app configures (configured.py writes one JSON line each into the
// run's folder, beside the connection record): Django's DATABASES, engines created at import,
// DSN-shaped settings and environment values — whether or not the run used them. Written by the
// worker's own process (untrusted code), so read like the connection record: bounded, no symlink,
// each line schema-checked and scrubbed, then merged into one entry per (role, where, server).
/** Configured identities file name inside the run's folder (bootstrap.py writes it beside the record). */
const CONFIGURED_FILE = 'configured.jsonl';
const FIELD_MAX$1 = 200;
/** Distinct configured identities kept. */
const CONFIGURED_MAX = 100;
const text = string().max(FIELD_MAX$1).nullish();
let schema;
function lineSchema() {
    schema ??= object({
        role: string().min(1).max(FIELD_MAX$1).nullish(),
        role_from: _enum(['dsn', 'PGUSER', 'os user', 'unspecified']),
        where: string().min(1).max(FIELD_MAX$1),
        host: text,
        port: number().int().min(1).max(65535).nullish(),
        dbname: text,
        application_name: text,
        service: text
    });
    return schema;
}
/** Parses configured.py's lines; identical entries (same role, where, server) are kept once. */
function parseConfigured(body, redact) {
    const byKey = new Map();
    const { lines, rejected: notUnderstood } = parseRecordLines(body, lineSchema());
    let rejected = notUnderstood;
    for (const d of lines) {
        if (!d.role && d.role_from !== 'unspecified') {
            rejected++;
            continue;
        }
        const opt = (k, v) => (v ? { [k]: clean(v, redact) } : {});
        const entry = {
            ...opt('role', d.role),
            roleFrom: d.role ? d.role_from : 'unspecified',
            where: clean(d.where, redact),
            ...opt('host', d.host),
            ...(d.port ? { port: d.port } : {}),
            ...opt('dbname', d.dbname),
            ...opt('applicationName', d.application_name),
            ...opt('service', d.service)
        };
        const key = JSON.stringify([entry.role, entry.where, entry.host, entry.port, entry.dbname]);
        if (byKey.has(key))
            continue;
        if (byKey.size < CONFIGURED_MAX)
            byKey.set(key, entry);
        else
            rejected++;
    }
    return { identities: [...byKey.values()], rejected };
}
/** Reads the configured identities beside the connection record `connectionsFile`; never throws. */
function readConfigured(connectionsFile, redact) {
    const { text: body, truncated, missing } = readBounded(path.join(path.dirname(connectionsFile), CONFIGURED_FILE));
    if (body === undefined)
        return { identities: [], rejected: missing ? 0 : 1, truncated, missing };
    return { ...parseConfigured(body, redact), truncated, missing };
}
/** The run's records: the connections opened, the identities configured, the variables read. */
function readIdentities(connectionsFile, redact) {
    const configured = { ...readConfigured(connectionsFile, redact), envReads: readEnvReads(connectionsFile, redact) };
    return { ...readConnections(connectionsFile, redact), configured };
}
/** "postgres" / "runner (libpq's default: the OS user)" / "unspecified (service reports)" */
function describeRole(i) {
    if (!i.role)
        return `unspecified${i.service ? ` (libpq service ${i.service})` : ''}`;
    if (i.roleFrom === 'PGUSER')
        return `${i.role} (libpq's default: PGUSER)`;
    if (i.roleFrom === 'os user')
        return `${i.role} (libpq's default: the OS user)`;
    return i.role;
}

// rls-role on the identities the app CONFIGURES (configured.ts): a role in Django's DATABASES, an
// engine created at import, a DSN in the app's settings or in the environment the worker inherits
// is a credential the worker's code holds, used during the run or not. Each is held to the rules
// of the identities used (expected-role or allowed-roles; the role's attributes and ownerships are
// judged by rls-role with the same functions), and said with where it was configured and whether
// the run used it. One that points at another server is judged only if a role of that name exists
// in the checked cluster, and what was not checked is said. An environment variable the worker
// inherited but its code never read (env-reads.ts) is not judged, only noted: CI often sets a
// migration DSN for the whole job, and failing every app that ignores it would be noise.
async function checkedTarget(db, dsn) {
    const [row] = await db.query('SELECT current_database() AS database, inet_server_port() AS port, host(inet_server_addr()) AS addr');
    return {
        database: row?.database ?? '',
        port: row?.port ?? dsn?.port ?? 5432,
        hosts: [dsn?.host, row?.addr ?? undefined].filter((h) => h !== undefined)
    };
}
const LOCAL_HOSTS = new Set(['', 'localhost', '127.0.0.1', '::1']);
/** No host (libpq's default socket), a Unix socket directory, or the loopback. */
const isLocal = (host) => !host || LOCAL_HOSTS.has(host.toLowerCase()) || host.startsWith('/');
/** Whether `i` points at the checked server (same host, by name or address, and same port). */
function sameServer(i, target) {
    if (target.port !== undefined && (i.port ?? 5432) !== target.port)
        return false;
    if (isLocal(i.host))
        return !target.hosts.length || target.hosts.some(isLocal);
    return target.hosts.some((h) => h.toLowerCase() === i.host?.toLowerCase());
}
const serverOf = (host, port) => `${host || 'localhost'}:${port ?? 5432}`;
/**
 * The configured identities to judge, and the environment variables inherited but never read
 * (name → identity). Without a complete record of the reads, every variable counts as read.
 */
function splitByReads(record) {
    const judged = [];
    const unread = [];
    const reads = complete(record?.envReads) ? record?.envReads : undefined;
    for (const i of record?.identities ?? []) {
        const name = envNameOf(i.where);
        if (reads && name !== undefined && !reads.read.has(name))
            unread.push([name, i]);
        else
            judged.push(i);
    }
    return { judged, unread };
}
/** The roles configured (an unread variable's aside), to look up with roleInfo before configuredFindings judges them. */
function configuredRoles(record) {
    return [
        ...new Set(splitByReads(record)
            .judged.map((i) => i.role)
            .filter((r) => !!r))
    ];
}
/**
 * The configured identities judged by the rule of the used ones. `used`: the roles seen during the
 * run (sessions and the connection record); `existing`: the roles found in the checked cluster.
 */
function configuredFindings(record, expected, allowedRoles, used, target, existing) {
    const problems = [];
    const lines = [];
    const notChecked = [];
    const configuredAt = new Map();
    const labels = new Map();
    const otherDatabases = new Set();
    const { judged, unread } = splitByReads(record);
    for (const i of judged) {
        if (!i.role) {
            notChecked.push(`${i.where} (role ${describeRole(i)})`);
            continue;
        }
        let where = i.where;
        if (target && !sameServer(i, target)) {
            // Roles are per server: a role of that name here says nothing sure about the other one.
            if (!existing.has(i.role)) {
                notChecked.push(`${i.where} (${i.role} on ${serverOf(i.host, i.port)}, not the checked server ${serverOf(target.hosts[0], target.port)})`);
                continue;
            }
            where += ` (on ${serverOf(i.host, i.port)}, not the checked server: judged as the role ${i.role} of the checked server)`;
        }
        else if (target && i.dbname && i.dbname !== target.database) {
            otherDatabases.add(i.dbname);
            where += ` (database ${i.dbname})`;
        }
        const readBy = record?.envReads?.read.get(envNameOf(i.where) ?? '');
        if (readBy)
            where += ` (read by ${readBy})`;
        configuredAt.set(i.role, [...(configuredAt.get(i.role) ?? []), where]);
        labels.set(i.role, describeRole(i));
    }
    const allowed = new Set([expected, ...allowedRoles]);
    const also = allowedRoles.length ? ` or one of allowed-roles (${allowedRoles.join(', ')})` : '';
    const summary = [];
    for (const [role, wheres] of configuredAt) {
        const at = listWithMore(wheres, { separator: ', ', noun: ['place', 'places'] });
        const usage = used.has(role) ? 'configured, and used during this run' : 'configured, not used during this run';
        summary.push(`${labels.get(role)} at ${at}${used.has(role) ? '' : ' (not used during this run)'}`);
        if (allowed.has(role))
            continue;
        const env = wheres.some((w) => w.startsWith('env '))
            ? "; an environment variable: if the worker does not need it, set it only on the steps that need it (the worker inherits the job's environment)"
            : '';
        problems.push(`${labels.get(role)} is configured at ${at} (${usage}), expected ${expected}${also}: configure ${expected} there (or a role meant for it, listed in allowed-roles), or remove it if the worker does not need it${env} — a credential in the worker's configuration is one its code can use`);
    }
    const allowedUnread = unread.filter(([, i]) => i.role && allowed.has(i.role));
    summary.push(...allowedUnread.map(([name, i]) => `${describeRole(i)} at env ${name} (inherited, never read)`));
    if (summary.length)
        lines.push(`database identities the app configures (read after import): ${listWithMore(summary, { separator: '; ', noun: ['identity', 'identities'] })}`);
    if (otherDatabases.size && target)
        lines.push(`⚠️ tenant-table ownership checked in database ${target.database} only, not in ${[...otherDatabases].join(', ')} (configured too): set database-url to check there`);
    const note = unreadNote(unread.filter(([, i]) => !i.role || !allowed.has(i.role)));
    if (note)
        lines.push(note);
    if (!complete(record?.envReads) && judged.some((i) => envNameOf(i.where) !== undefined))
        lines.push(`⚠️ which environment variables the app read is not known (${incompleteReason(record?.envReads)}): every DSN-shaped variable the worker inherits was judged as read`);
    if (notChecked.length)
        lines.push(`⚠️ configured identities not checked: ${listWithMore(notChecked, { separator: '; ', noun: ['identity', 'identities'] })}`);
    // The worker writes the file (maybe empty) right after import; none means it could not, or removed it.
    if (record?.missing)
        lines.push('⚠️ the identities the app configures were not read (the worker left no record): configured roles not checked');
    if (record?.rejected)
        lines.push(`⚠️ ${formatCount(record.rejected)} entries of the configured identities were not understood and were ignored`);
    if (record?.truncated)
        lines.push(`⚠️ the configured identities were cut at ${CONNECTIONS_MAX_BYTES / 1024 / 1024} MiB: the rest is not judged`);
    return { problems, lines, configuredAt };
}
/**
 * The words a role's other findings (SUPERUSER, owner …) end with: where it was used during the
 * run and where it is configured; empty for a role neither recorded nor configured.
 */
function roleContext(role, used, usedBy, configuredAt) {
    const parts = [];
    const uses = usedBy.get(role);
    if (uses)
        parts.push(`used by ${uses.join('; ')}`);
    const at = configuredAt.get(role);
    if (at)
        parts.push(`configured at ${listWithMore(at, { separator: ', ', noun: ['place', 'places'] })}${used.has(role) ? '' : ', not used during this run'}`);
    return parts.length ? ` (${parts.join('; ')})` : '';
}
/**
 * The variables the worker inherited, holding a DSN for a role the rules do not allow, that its
 * code never read: not a failure (the app does not use them), but a credential pull-request code
 * could still read. `worker-env` cannot help: it only passes on variables the action withholds
 * (worker-env.ts); the job's and this step's `env:` reach the worker whatever it says.
 */
function unreadNote(unread) {
    if (!unread.length)
        return undefined;
    const one = unread.length === 1;
    const what = one
        ? `${unread[0]?.[0]} holds a DSN for ${describeRole(unread[0]?.[1])} that this worker inherits`
        : `${listWithMore(unread.map(([name, i]) => `${name} (${describeRole(i)})`), { separator: ', ', noun: ['variable', 'variables'] })} hold DSNs that this worker inherits`;
    const it = one ? 'it' : 'them';
    return `⚠️ ${what} but never read during the run: pull-request code could still use ${it} — set ${it} only in the env: of the steps that need ${it}, not the job's or this step's (the worker inherits both; worker-env cannot withhold a variable, it only passes on ones the action withholds)`;
}

const rlsRoleGate = {
    id: 'rls-role',
    title: 'RLS/Role',
    description: "Every database identity of the worker's processes — sessions sampled in pg_stat_activity during the run, connections recorded in-process, roles configured — is expected-role or one of allowed-roles, and none is SUPERUSER, BYPASSRLS or a tenant table's owner (nor a member of one); tenant tables have RLS enabled and forced",
    foundation: true,
    needs: ['broker-config'],
    async run({ settings, facts }) {
        const connected = await connectForChecks(facts, 'to check roles');
        if ('outcome' in connected)
            return connected.outcome;
        const { db } = connected;
        const expected = settings.expectedRole;
        const problems = [];
        const lines = [];
        // 1. Who the worker really is, from pg_stat_activity (not from its DSN) — only for a worker
        // that answered: one that is dying, or was never started, has no sessions to judge.
        const sessions = (await facts.pingAnswered())
            ? await findWorkerSessions(db, facts)
            : { checked: false, reason: 'the worker never answered (`runtime` did not pass)', rows: [] };
        if (sessions.checked) {
            const users = [...new Set(sessions.rows.map((r) => r.usename ?? '?'))];
            if (!sessions.rows.length)
                problems.push(`no database session of ${facts.ids.nodeName} found in pg_stat_activity (application_name ${facts.ids.applicationName}; does the DSN set its own application_name, and may ${db.role} see the worker's sessions?)`);
            else {
                const allowed = new Set([expected, ...settings.allowedRoles]);
                const others = users.filter((u) => !allowed.has(u));
                const also = settings.allowedRoles.length ? ` or one of allowed-roles (${settings.allowedRoles.join(', ')})` : '';
                if (others.length)
                    problems.push(`the worker's sessions use role ${others.join(', ')}, expected ${expected}${also}: connect the worker as ${expected}, or add a role meant for it to allowed-roles`);
                else {
                    const n = sessions.rows.length;
                    lines.push(`${n} session${n > 1 ? 's' : ''} of ${facts.ids.nodeName} in pg_stat_activity, all ${users.join(', ')}`);
                }
            }
        }
        else
            lines.push(`sessions not checked: ${sessions.reason}`);
        // Without sessions to look at, the gate's first claim is unproven: at best mixed.
        // 1b. Every connection the worker's processes opened during the run, recorded in-process
        // (connections.py): the app's own data layer too, and connections closed long before now.
        const record = await facts.identities();
        const recorded = identityFindings(record, expected, settings.allowedRoles);
        problems.push(...recorded.problems);
        lines.push(...recorded.lines);
        // 1c. The sessions of the worker's process tree sampled in pg_stat_activity from spawn to now:
        // what went around the in-process hooks (libpq through ctypes, a psql subprocess, asyncpg).
        const sampled = sampledFindings(await facts.sampledSessions(), expected, settings.allowedRoles);
        problems.push(...sampled.problems);
        lines.push(...sampled.lines);
        for (const [role, uses] of sampled.usedBy)
            recorded.usedBy.set(role, [...(recorded.usedBy.get(role) ?? []), ...uses]);
        // 2. What the roles may do: the ones used during the run and the ones the app configures
        // (configured.py: DATABASES, engines, DSN-shaped settings and environment), used or not.
        const observed = sessions.rows.map((r) => r.usename).filter((u) => !!u);
        const used = new Set([...observed, ...recorded.usedBy.keys()]);
        const roleNames = [...new Set([expected, ...used, ...configuredRoles(record.configured)])];
        const roles = await roleInfo(db, roleNames);
        const target = record.configured?.identities.length ? await targetOf(db, facts, settings) : undefined;
        const configured = configuredFindings(record.configured, expected, settings.allowedRoles, used, target, new Set(roles.map((r) => r.name)));
        problems.push(...configured.problems);
        lines.push(...configured.lines);
        const context = (role) => roleContext(role, used, recorded.usedBy, configured.configuredAt);
        const expectedRole = roles.find((r) => r.name === expected);
        if (!expectedRole)
            problems.push(`role ${expected} does not exist`);
        for (const role of roles)
            problems.push(...roleProblems(role).map((p) => p + context(role.name)));
        if (expectedRole && !roleProblems(expectedRole).length)
            lines.push(`${expected}: NOSUPERUSER NOBYPASSRLS`);
        // 3. Tenant tables: RLS enabled, forced, and active for the expected role.
        const tables = settings.tenantTables ? await namedTenantTables(db, settings.tenantTables) : await discoverTenantTables(db);
        const malformed = tables.filter((t) => t.malformed !== undefined);
        const wellFormed = tables.filter((t) => t.malformed === undefined);
        const tableCheck = expectedRole ? await checkTenantTables(db, wellFormed, expectedRole) : { problems: [], ok: [] };
        const skipped = malformed.map((t) => malformedEntryFinding(t.name, t.malformed));
        // 4. Ownership: the owner of a tenant table (or a member of the owner role) can switch its RLS
        // off whenever it likes; that fails. Owning the broker/result tables is said, not failed.
        const judged = roles.filter((r) => !r.superuser).map((r) => r.name);
        const tenantNames = wellFormed.filter((t) => t.exists).map((t) => t.qualifiedName);
        // A lookup PostgreSQL refuses (a schema the checking role may not use) must not hide the
        // other findings: the gate then says ownership was not checked, and cannot pass.
        const owned = await ownedTables(db, judged, [...tenantNames, ...(await brokerTables(facts))]).catch((err) => err);
        const ownership = owned instanceof Error
            ? { problems: [`ownership of the tables not checked: ${facts.redact(owned.message.split('\n')[0] ?? '')}`], notes: [] }
            : ownershipFindings(owned, new Set(tenantNames), { expected, usedBy: recorded.usedBy, context });
        tableCheck.problems.push(...ownership.problems);
        problems.push(...skipped, ...tableCheck.problems);
        let status = sessions.checked ? 'pass' : 'warn';
        if (!wellFormed.length) {
            // Many real projects have no tenant table. Saying so as a warning on every run would be
            // permanent noise a user learns to ignore (and then misses a real one); the checks this gate
            // did make (the sessions' roles) still stand, so it passes and says, in its evidence, what it
            // did not check and how to turn that on. tenant-tables given but not one table name among
            // its entries is a mistake of the user, failed above through `skipped`.
            if (settings.tenantTables)
                status = 'warn';
            lines.push(settings.tenantTables
                ? 'no tenant table to check: no entry of tenant-tables is a table name'
                : 'no tenant table: RLS not checked (set tenant-tables, or add a tenant_id column)');
        }
        else if (tableCheck.ok.length)
            lines.push(`RLS enabled, forced and active for ${expected}: ${listWithMore(tableCheck.ok, { noun: ['table', 'tables'], where: "see the gate's details" })}`);
        // A database can have thousands of tenant tables, each with a problem: the evidence shows the
        // first few and says how many more; the details list every table (bounded in src/report/limits.ts).
        lines.push(...ownership.notes);
        const details = detailsOf$1(sessions.rows, tableCheck, skipped);
        if (problems.length)
            return gateOutcome('fail', [...linesWithMore(problems, { noun: ['problem', 'problems'], where: "see the gate's details" }), ...lines].join('\n'), details);
        return gateOutcome(status, lines.join('\n'), details);
    }
};
/**
 * The recorded identities judged by the same rule as the sessions (expected-role or allowed-roles),
 * each said with where it was opened and how often; `usedBy` maps a role to those descriptions so
 * the role's other findings (SUPERUSER, owner …) say where it was used.
 */
function identityFindings(record, expected, allowedRoles, label = "connections the worker's processes opened (recorded in-process)") {
    const problems = [];
    const lines = [];
    const usedBy = new Map();
    const allowed = new Set([expected, ...allowedRoles]);
    const also = allowedRoles.length ? ` or one of allowed-roles (${allowedRoles.join(', ')})` : '';
    for (const i of record.identities) {
        const text = describeIdentity(i);
        usedBy.set(i.role, [...(usedBy.get(i.role) ?? []), text]);
        if (!allowed.has(i.role))
            problems.push(`${text}, expected ${expected}${also}: connect it as ${expected}, or add a role meant for it to allowed-roles`);
    }
    if (record.identities.length)
        lines.push(`${label}: ${listWithMore(record.identities.map(describeIdentity), { separator: '; ', noun: ['identity', 'identities'] })}`);
    if (record.rejected)
        lines.push(`⚠️ ${formatCount(record.rejected)} entries of the connection record were not understood and were ignored`);
    if (record.truncated)
        lines.push(`⚠️ the connection record was cut at ${CONNECTIONS_MAX_BYTES / 1024 / 1024} MiB: connections after that are not judged`);
    return { problems, lines, usedBy };
}
/** The sampled sessions, judged by the same rule, with how many samples saw them and what was not kept. */
function sampledFindings(record, expected, allowedRoles) {
    const asRecord = { identities: record.identities, rejected: 0, truncated: false};
    const label = `sessions of the worker's processes sampled in pg_stat_activity (${formatCount(record.samples)} sample${record.samples === 1 ? '' : 's'} during the run)`;
    const out = identityFindings(asRecord, expected, allowedRoles, label);
    if (record.dropped)
        out.lines.push(`⚠️ ${formatCount(record.dropped)} more sampled sessions were not kept (bound reached)`);
    if (record.note)
        out.lines.push(`sessions not sampled during the run: ${record.note}`);
    if (record.unattributed)
        out.lines.push(`⚠️ ${record.unattributed}`);
    return out;
}
/** The checked server (compared with each configured identity's); undefined if it cannot say. */
async function targetOf(db, facts, settings) {
    const plane = await facts.dataPlane();
    const dsn = settings.databaseUrlParts ?? (plane?.ok ? plane.plane.broker.parts : undefined);
    return checkedTarget(db, dsn).catch(() => undefined);
}
async function findWorkerSessions(db, facts) {
    if (!facts.workerRunning())
        return { checked: false, reason: 'the worker is not running', rows: [] };
    const plane = await facts.dataPlane();
    const port = plane?.ok ? (plane.plane.broker.parts.port ?? 5432) : 5432;
    // Sessions are found by the run's application_name and, for DSNs that set their own, by the
    // TCP ports the worker's processes hold (visible to the same role or pg_read_all_stats).
    const ports = localPortsTo(facts.workerProcessIds(), port);
    const rows = await workerSessions(db, facts.ids.applicationName, ports);
    return { checked: true, rows };
}
function roleProblems(role) {
    const out = [];
    const name = quoteIdent(role.name);
    // PostgreSQL (16+) refuses NOSUPERUSER for the bootstrap superuser, and on older servers taking
    // it would leave the cluster without the role initdb made: the fix is another role.
    if (role.superuser && role.bootstrap)
        out.push(`${role.name} is SUPERUSER: it bypasses row-level security — it is the bootstrap superuser, for which PostgreSQL refuses ALTER ROLE ${name} NOSUPERUSER: connect the worker as a dedicated least-privilege role instead (LOGIN, NOSUPERUSER, NOBYPASSRLS, DML grants only; see db-access) and set expected-role to it`);
    else if (role.superuser)
        out.push(`${role.name} is SUPERUSER: it bypasses row-level security — ALTER ROLE ${name} NOSUPERUSER`);
    // The bootstrap superuser's only fix is another role (above); ALTER ROLE on it is not one.
    if (role.bypassRls && !(role.superuser && role.bootstrap))
        out.push(`${role.name} has BYPASSRLS: it bypasses row-level security — ALTER ROLE ${name} NOBYPASSRLS`);
    if (role.privilegedMemberships.length)
        out.push(`${role.name} is a member of ${role.privilegedMemberships.join(', ')} (SUPERUSER or BYPASSRLS): it can SET ROLE and bypass row-level security — REVOKE ${role.privilegedMemberships.map(quoteIdent).join(', ')} FROM ${name}`);
    return out;
}
/** The broker's and result backend's tables as the app configures them (the probe), quoted. */
async function brokerTables(facts) {
    const probe = await facts.probe();
    if (!probe.ok)
        return [];
    const t = probe.probe.tables;
    return [qualified(t.queue), qualified(t.message), qualified(t.task, t.task_schema), qualified(t.group, t.group_schema)];
}
/** Placeholder the user replaces: quoted, so the statement as printed fails rather than guesses a role. */
const MIGRATION_ROLE = '"<migration role>"';
const OWNER_FIX = `(replace ${MIGRATION_ROLE} with the role that runs your migrations, one the worker does not use and is not a member of)`;
/**
 * A tenant table the worker's role owns, or owns through a role it is a member of, is a failure
 * per table (the owner can ALTER TABLE … NO FORCE / DISABLE ROW LEVEL SECURITY and read every
 * tenant's rows). The broker/result tables are a note per role: their owner can DROP, TRUNCATE or
 * ALTER them (one bad task loses every queued message and result), but the worker still works
 * and no tenant's rows are exposed, so it does not fail the gate.
 */
function ownershipFindings(owned, tenant, used = {}) {
    const problems = [];
    const plane = new Map();
    for (const o of owned) {
        if (!tenant.has(o.table)) {
            plane.set(o.role, [...(plane.get(o.role) ?? []), o]);
            continue;
        }
        const how = o.direct
            ? `${o.role} owns tenant table ${o.table}`
            : `${o.role} is a member of ${o.owner}, the owner of tenant table ${o.table} (it can SET ROLE ${o.owner})`;
        const risk = "an owner can ALTER TABLE … NO FORCE or DISABLE ROW LEVEL SECURITY at any time and read every tenant's rows";
        // The migration role itself, used by the app's code (its data layer logs in as the owner):
        // the fix is the connection, not the table's owner.
        const context = used.context?.(o.role) ?? '';
        const uses = o.role !== used.expected ? used.usedBy?.get(o.role) : undefined;
        if (uses && used.expected && o.direct)
            problems.push(`${how}${context || ` (used by ${uses.join('; ')})`}: ${risk} — connect that code as ${used.expected}; the table's owner stays a migration role that the app never logs in as`);
        else
            problems.push(`${how}: ${risk} — ALTER TABLE ${o.sqlName} OWNER TO ${MIGRATION_ROLE} ${OWNER_FIX}${o.direct ? '' : `, or REVOKE ${quoteIdent(o.owner)} FROM ${quoteIdent(o.role)}`}${context}`);
    }
    const notes = [...plane].map(([role, tables]) => {
        const owners = [...new Set(tables.filter((t) => !t.direct).map((t) => t.owner))];
        const how = owners.length ? `${role} may act as the owner (member of ${owners.join(', ')}) of` : `${role} owns`;
        return `⚠️ ${how} the broker/result tables ${tables.map((t) => t.table).join(', ')}: an owner can DROP, TRUNCATE or ALTER them, so one faulty task can lose every queued message and result (not a failure; ALTER TABLE … OWNER TO ${MIGRATION_ROLE} and keep the grants db-access lists)`;
    });
    return { problems, notes };
}
async function checkTenantTables(db, tables, role) {
    const problems = [];
    const ok = [];
    const asCurrent = db.role === role.name
        ? await rowSecurityActiveAsCurrentUser(db, tables.filter((t) => t.exists).map((t) => t.qualifiedName))
        : undefined;
    for (const t of tables) {
        const name = t.qualifiedName ?? t.name;
        if (!t.exists) {
            problems.push(`tenant table ${t.name} does not exist`);
            continue;
        }
        const sql = t.sqlName ?? name;
        if (!t.rlsEnabled) {
            problems.push(`${name}: row-level security is not enabled (ALTER TABLE ${sql} ENABLE ROW LEVEL SECURITY)`);
            continue;
        }
        if (!t.rlsForced) {
            problems.push(`${name}: RLS is enabled but not forced, so its owner ${t.owner ?? ''} bypasses it (ALTER TABLE ${sql} FORCE ROW LEVEL SECURITY)`);
            continue;
        }
        const active = asCurrent?.get(name) ?? rowSecurityActiveFor(t, role);
        // A SUPERUSER or BYPASSRLS role is already reported; repeating it per table adds nothing.
        if (!active && (role.superuser || role.bypassRls))
            continue;
        if (!active) {
            problems.push(`${name}: row security is not active for ${role.name}`);
            continue;
        }
        ok.push(t.policies ? name : `${name} (no policy: denies every row)`);
    }
    return { problems, ok };
}
/** The sessions found, then every tenant table's finding (the evidence shows the first few). */
function detailsOf$1(rows, tables, skipped) {
    const parts = [];
    if (rows.length)
        parts.push(rows
            .map((r) => `pid ${r.pid} ${r.usename ?? '?'} application_name=${r.application_name ?? ''} client_port=${r.client_port ?? ''} ${r.backend_type ?? ''}`)
            .join('\n'));
    if (tables.problems.length > EVIDENCE_LIST_ITEMS || tables.ok.length > EVIDENCE_LIST_ITEMS || skipped.length > EVIDENCE_LIST_ITEMS) {
        const counts = `${formatCount(tables.problems.length)} with a problem, ${formatCount(tables.ok.length)} fine${skipped.length ? `, ${formatCount(skipped.length)} entries skipped (not table names)` : ''}`;
        parts.push([`Tenant tables: ${counts}`, ...skipped, ...tables.problems, ...tables.ok.map((n) => `ok: ${n}`)].join('\n'));
    }
    return parts.length ? parts.join('\n\n') : undefined;
}

// What the worker's own lines tell us. Celery prints its banner with print() and everything else
// through logging — plain text by default, JSON or anything else when the app configures its
// logging — so every pattern matches inside a line rather than anchoring on a format.
const BANNER = /\.>\s+(transport|results):\s+(\S+)/;
const FATAL = /Unrecoverable error:/;
// psycopg/psycopg2/libpq messages for a server that will not take the worker's connection.
// What a restarting server says: a worker reconnects on its own once it is back.
const TRANSIENT = /Connection refused|shutting down|starting up|in recovery mode|server closed the connection|timeout expired|too many clients|too many connections/;
const DB_REFUSED = new RegExp([
    // Quotes may arrive JSON-escaped (\\") when the app logs JSON.
    'password authentication failed for user \\\\?"[^"\\\\]*\\\\?"',
    'no pg_hba\\.conf entry for [^,"]*',
    'role \\\\?"[^"\\\\]*\\\\?" does not exist',
    'database \\\\?"[^"\\\\]*\\\\?" does not exist',
    'Connection refused',
    'could not translate host name "[^"]*" to address[^"\\\\]*',
    'timeout expired',
    'server closed the connection unexpectedly',
    'the database system is (?:starting up|shutting down|in recovery mode)',
    'role "[^"]*" is not permitted to log in',
    'password authentication failed',
    'too many connections for role "[^"]*"',
    'sorry, too many clients already'
].join('|'));
/** `<node> ready.` as a whole word: `old-cfg-1@vm ready.` is another worker's line. */
function isReadyLine(line, nodeName) {
    const at = line.indexOf(`${nodeName} ready.`);
    return at >= 0 && (at === 0 || !/[\w.@-]/.test(line[at - 1]));
}
function classifyLine(line, run) {
    const banner = BANNER.exec(line);
    if (banner)
        return { kind: banner[1] === 'transport' ? 'transport' : 'results', value: banner[2] };
    if (isReadyLine(line, run.nodeName))
        return { kind: 'ready' };
    if (FATAL.test(line))
        return { kind: 'fatal' };
    if (/OperationalError|psycopg|could not connect|connection to server/.test(line)) {
        const refused = DB_REFUSED.exec(line);
        if (refused)
            return { kind: 'db-refused', reason: refused[0].replace(/\\"/g, '"'), transient: TRANSIENT.test(refused[0]) };
    }
    const denied = /permission denied for (?:table|sequence|schema|relation|database) ("?[\w.$-]+"?)/.exec(line);
    if (denied)
        return { kind: 'db-denied', object: denied[1].replace(/"/g, '') };
    const notAdded = /Failed to add missing column '([\w$]+)'/.exec(line);
    if (notAdded)
        return { kind: 'result-column-not-added', column: notAdded[1] };
    const undefinedColumn = /column \\?"?([\w$]+)\.([\w$]+)\\?"? does not exist/.exec(line);
    if (undefinedColumn)
        return {
            kind: 'result-store',
            table: undefinedColumn[1],
            column: undefinedColumn[2],
            cause: `${/UndefinedColumn/.test(line) ? 'UndefinedColumn: ' : ''}${undefinedColumn[0].replace(/\\?"/g, '')}`
        };
    const backend = /\bBackend(?:Store|GetMeta)Error\b[:(]?\s*[^"\\\n]{0,100}/.exec(line);
    if (backend)
        return { kind: 'result-store', cause: backend[0].trim() };
    if (line.includes(run.taskId)) {
        if (/succeeded in/.test(line))
            return { kind: 'task-succeeded' };
        if (/raised unexpected|\braised\b|\bfailed\b/.test(line))
            return { kind: 'task-failed' };
        if (/\breceived\b/.test(line))
            return { kind: 'task-received' };
    }
    return { kind: 'other' };
}
/** The `Type: message` line of a Python traceback (the last one, for chained exceptions). */
function exceptionLine(traceback) {
    const lines = traceback.split('\n').map((l) => l.trimEnd());
    const typed = lines.filter((l) => /^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning|Refused|Timeout)\b/.test(l));
    // SQLAlchemy ends its errors with a "(Background on this error at: …)" link: never the answer.
    return typed.at(-1) ?? lines.filter((l) => l.trim() && !l.startsWith('(Background on this error')).at(-1);
}
/**
 * One log line as a person reads it: a JSON record becomes `LEVEL logger: message` followed by its
 * exception with real line breaks; anything else stays as it is.
 */
function expandLogLine(line) {
    const text = line.trim();
    if (!text.startsWith('{'))
        return text;
    try {
        const rec = JSON.parse(text);
        const head = summarizeLogLine(JSON.stringify({ ...rec, exc_info: undefined, exception: undefined, exc_text: undefined }), 2000);
        const exc = [rec.exc_info, rec.exception, rec.exc_text].find((v) => typeof v === 'string');
        return exc ? `${head}\n${exc.trimEnd()}` : head;
    }
    catch {
        return text;
    }
}
/**
 * One log line made short enough for an evidence cell. A JSON log record (as apps with
 * structured logging print) becomes `LEVEL logger: message` plus the last line of its exception.
 */
function summarizeLogLine(line, max = 300) {
    let text = line.trim();
    if (text.startsWith('{')) {
        try {
            const rec = JSON.parse(text);
            const message = rec.message ?? rec.msg ?? rec.event;
            if (typeof message === 'string') {
                const level = rec.level ?? rec.levelname;
                const logger = rec.logger ?? rec.name;
                const exc = [rec.exc_info, rec.exception, rec.exc_text].find((v) => typeof v === 'string');
                const excLine = exc ? exceptionLine(exc) : undefined;
                // The exception is worth adding only when the message does not already say it.
                const adds = excLine && !message.includes(excLine.replace(/^[\w.]+: /, '').slice(0, 60));
                text = `${level ? `${String(level)} ` : ''}${logger ? `${String(logger)}: ` : ''}${message}${adds ? ` — ${excLine}` : ''}`;
            }
        }
        catch {
            // Cut or not JSON after all: pick the fields out of the text.
            const field = (name) => new RegExp(`"${name}":\\s*"((?:[^"\\\\]|\\\\.)*)"`).exec(text)?.[1];
            const message = field('message');
            if (message)
                text = `${field('level') ?? ''} ${field('logger') ?? ''}: ${message.replace(/\\"/g, '"')}`.trim();
        }
    }
    return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// The events bootstrap.py writes on file descriptor 3, validated at the boundary: the Python
// side runs in the user's interpreter with the user's packages, so its output is outside data.
/**
 * The schemas, built on first use rather than at import: their construction is a measurable part of
 * the action's start, which delays the worker's spawn, while the first event comes only once
 * Python has imported the app, hundreds of milliseconds later.
 */
function buildSchemas() {
    const UrlParts = object({
        drivername: string(),
        username: string().nullish(),
        password: string().nullish(),
        host: string().nullish(),
        port: number().nullish(),
        database: string().nullish(),
        query: record(string(), unknown()).nullish()
    })
        .nullish();
    const Driver = object({ driver: string().nullish(), dialect: string().nullish(), module: string().nullish(), error: string().nullish() }).nullish();
    const TableModel = object({
        columns: array(object({
            name: string(),
            type: string(),
            nullable: boolean(),
            primary_key: boolean(),
            used: boolean(),
            sequence: string().nullish(),
            sequence_schema: string().nullish()
        }))
            .max(500),
        indexes: array(object({ name: string(), columns: array(string()).max(50), unique: boolean() })).max(200),
        /** The model's unique constraints, as column lists (UNIQUE(task_id)). */
        unique: array(array(string()).max(50)).max(50).optional()
    });
    const EngineOptions = object({ keys: array(string()).max(500), rejected: array(string()).max(500), error: string().nullish() });
    /** What the installed Celery, kombu and SQLAlchemy need (drift.py); each part may be absent. */
    const Drift = object({
        drivers: object({ broker: Driver, results: Driver }).optional(),
        engine_options: EngineOptions.optional(),
        backend_engine_options: EngineOptions.optional(),
        result_tables: object({ task: TableModel, group: TableModel }).optional(),
        broker_tables: object({ queue: TableModel.optional(), message: TableModel.optional() }).optional(),
        error: string().optional()
    });
    const Probe = object({
        event: literal('probe'),
        seconds: number(),
        app: object({ main: string().nullish(), repr: string() }),
        versions: object({
            python: string(),
            celery: string().nullish(),
            kombu: string().nullish(),
            sqlalchemy: string().nullish(),
            psycopg: string().nullish(),
            psycopg2: string().nullish()
        }),
        broker: object({
            url: string().nullish(),
            urls: array(string()).nullish(),
            transport: string().nullish(),
            transport_class: string().nullish(),
            transport_error: string().nullish(),
            polling_interval: number().nullish(),
            parts: UrlParts,
            /** kombu's PGMQ transport only (pgmq_probe.py). */
            pgmq: object({
                queue_name_prefix: string().max(200),
                init_extension: boolean(),
                visibility_timeout: number().nullish(),
                conn_string: boolean().nullish(),
                package: string().max(40).nullish(),
                bundled_sql: string().max(40).nullish(),
                partitioned_queues: array(string().max(200)).max(100).nullish()
            })
                .nullish()
        }),
        backend: object({
            url: string().nullish(),
            scheme: string().nullish(),
            backend_class: string().nullish(),
            backend_error: string().nullish(),
            parts: UrlParts
        }),
        drift: Drift.optional(),
        tables: object({
            queue: string(),
            message: string(),
            task: string(),
            group: string(),
            task_schema: string().nullish(),
            group_schema: string().nullish()
        }),
        serializers: object({
            task: string().nullish(),
            result: string().nullish(),
            accept_content: array(string()).nullish()
        }),
        tasks: array(string()),
        ping_task_registered: boolean(),
        default_queue: string().nullish(),
        queues: array(string()),
        ping_payload: string().nullish(),
        ping_payload_error: string().nullish(),
        /** Queues a worker started without -Q consumes (task_queues, or the default queue). */
        default_consumed_queues: array(string()).optional(),
        /** Queues the booted worker consumes (its final -Q). */
        consumed_queues: array(string()).optional(),
        /** Queue → the app's tasks Celery's router sends there. */
        routes: record(string(), array(string())).optional(),
        route_errors: record(string(), string()).optional(),
        /** Pings for the app's other queues and the dlq probe task, built by Celery like the ping. */
        extra_payloads: array(object({
            purpose: _enum(['queue', 'probe']),
            queue: string(),
            task: string(),
            taskId: string(),
            payload: string().optional(),
            error: string().optional()
        }))
            .optional()
    });
    const ImportFailure = object({
        event: literal('import-error'),
        type: string(),
        message: string(),
        traceback: string(),
        seconds: number().optional()
    });
    const BootstrapError = object({
        event: literal('error'),
        stage: string(),
        type: string(),
        message: string(),
        traceback: string()
    });
    const BootstrapEvent = discriminatedUnion('event', [Probe, ImportFailure, BootstrapError]);
    return { Probe, ImportFailure, BootstrapError, BootstrapEvent };
}
/**
 * The bootstrap's first event as the run's probe outcome, its outside text redacted. `worker`
 * says how the process ended, when no event came: its spawn error, its last lines.
 */
function probeOutcomeOf(event, worker, redact) {
    switch (event.event) {
        case 'probe':
            return { ok: true, probe: event };
        case 'import-error':
            return { ok: false, kind: 'import-error', error: { ...event, traceback: redact(event.traceback), message: redact(event.message) } };
        case 'error':
            return { ok: false, kind: 'not-started', message: redact(`${event.stage} failed: ${event.message}`), details: redact(event.traceback) };
        default: {
            const stderr = worker.lastLines();
            const reason = worker.spawnError ?? `${worker.python} did not run the probe (${event.reason}); is it a Python 3 interpreter with Celery installed?`;
            return { ok: false, kind: 'not-started', message: redact(reason), details: stderr || undefined };
        }
    }
}
let schemas;
/** Validates one event of the bootstrap (already JSON-parsed). */
function parseBootstrapEvent(raw) {
    schemas ??= buildSchemas();
    return schemas.BootstrapEvent.safeParse(raw);
}

// The bootstrap's report, read from the worker's fd 3: one JSON line saying whether the app
// imported and how Celery is configured (see bootstrap.py). The line comes from code the pull
// request controls, so every URL and password in it is registered as a secret before anything
// else reads it, and a line of the wrong shape is refused rather than trusted.
/**
 * The first line on `channel`, parsed; or why there was none. `exited` resolves, with a sentence
 * saying how, when the worker exits: a report written just before is still given a moment.
 */
function readBootReport(channel, exited, secrets) {
    return new Promise((resolve) => {
        if (!channel) {
            resolve({ event: 'no-event', reason: 'no event channel' });
            return;
        }
        let buffer = '';
        let settled = false;
        const settle = (value) => {
            if (settled)
                return;
            settled = true;
            resolve(value);
        };
        channel.setEncoding('utf8');
        channel.on('data', (chunk) => {
            buffer += chunk;
            const nl = buffer.indexOf('\n');
            if (nl < 0)
                return;
            settle(parseBootReport(buffer.slice(0, nl), secrets));
        });
        channel.on('error', () => { });
        channel.on('close', () => settle({ event: 'no-event', reason: 'the bootstrap closed its event channel without a report' }));
        void exited.then((how) => 
        // Give the channel a moment to deliver a report written just before exit.
        setTimeout(() => settle({ event: 'no-event', reason: how }), 50));
    });
}
function parseBootReport(line, secrets) {
    let raw;
    try {
        raw = JSON.parse(line);
    }
    catch {
        return { event: 'no-event', reason: 'the bootstrap wrote something that is not JSON' };
    }
    // Register every URL and password the event carries before anything reads it.
    collectSecrets(raw, secrets);
    const parsed = parseBootstrapEvent(raw);
    if (!parsed.success) {
        const where = parsed.error.issues[0]?.path.join('.') ?? '?';
        return { event: 'no-event', reason: `the bootstrap's report has an unexpected shape at ${where}` };
    }
    return parsed.data;
}
/** Registers every password and every URL carrying credentials found in a bootstrap event. */
function collectSecrets(value, secrets, key = '') {
    if (typeof value === 'string') {
        if (key === 'password')
            secrets.add(value);
        else if ((key === 'url' || key === 'urls') && value.includes('@')) {
            secrets.addExact(value);
            secrets.add(parseDsn(value)?.password);
        }
        else {
            // An import error's message or traceback may quote a DSN the environment did not hold
            // (built in code): registered here, it is masked before the evidence is printed.
            registerSecretsInText(value, secrets);
        }
        return;
    }
    if (Array.isArray(value))
        for (const v of value)
            collectSecrets(v, secrets, key);
    else if (value && typeof value === 'object')
        for (const [k, v] of Object.entries(value))
            collectSecrets(v, secrets, k);
}

// Follows a file as it grows — what a kept worker (keep-worker) writes: a pipe would break when
// this process exits, a file does not.
const POLL_MS = 25;
const READ_BYTES = 256 * 1024;
/**
 * Reads what was appended to `file` every `pollMs` and hands it on as text (a UTF-8 character
 * split across two reads is held until it is whole). A file not there yet is waited for. Returns a
 * function that stops following.
 */
function tailFile(file, onChunk, pollMs = POLL_MS) {
    let offset = 0;
    let busy = false;
    const decoder = new StringDecoder('utf8');
    const buffer = Buffer.alloc(READ_BYTES);
    const timer = setInterval(() => {
        if (busy)
            return;
        busy = true;
        try {
            const fd = openSync(file, 'r');
            try {
                let n;
                while ((n = readSync(fd, buffer, 0, buffer.length, offset)) > 0) {
                    offset += n;
                    onChunk(decoder.write(buffer.subarray(0, n)));
                }
            }
            finally {
                closeSync(fd);
            }
        }
        catch {
            // Not there yet, or gone: try again next time.
        }
        finally {
            busy = false;
        }
    }, pollMs);
    timer.unref();
    return () => clearInterval(timer);
}

// Splits a stream of text into lines, for both ways the worker's output arrives: its pipes and
// the file a kept worker writes to. Bounded: a runaway line without a newline is handed on in
// pieces rather than grown without limit.
class LineSplitter {
    onLine;
    maxPending;
    pending = '';
    /** `maxPending`: characters held without a newline before they are handed on as one line. */
    constructor(onLine, maxPending) {
        this.onLine = onLine;
        this.maxPending = maxPending;
    }
    push(chunk) {
        this.pending += chunk;
        let start = 0;
        let nl;
        while ((nl = this.pending.indexOf('\n', start)) >= 0) {
            this.onLine(this.pending.slice(start, nl));
            start = nl + 1;
        }
        this.pending = this.pending.slice(start);
        if (this.pending.length > this.maxPending)
            this.flush();
    }
    /** Hands on what is left without a newline (the end of a stream). */
    flush() {
        if (!this.pending)
            return;
        const rest = this.pending;
        this.pending = '';
        this.onLine(rest);
    }
}

// What the worker prints, kept within bounds: a ring of recent lines (for evidence) and a
// redacted log file (for the report). A worker that floods megabytes of tracebacks per second
// costs memory and disk only up to these bounds. Every line is cut to size and scrubbed of
// secrets before it is kept, written or handed to a listener.
const TAIL_LINES = 200;
// JSON log records carry whole tracebacks on one line.
const MAX_LINE_CHARS = 16_000;
const MAX_LOG_FILE_BYTES = 8 * 1024 * 1024;
class WorkerLog {
    file;
    secrets;
    tail = [];
    listeners = [];
    log;
    logBytes = 0;
    logTruncated = false;
    constructor(file, secrets) {
        this.file = file;
        this.secrets = secrets;
        this.open();
    }
    /** A splitter feeding this log: one per source (each pipe, or the followed output file). */
    splitter() {
        // A runaway line without newline is cut rather than grown without bound.
        return new LineSplitter((line) => this.accept(line), MAX_LINE_CHARS * 4);
    }
    /** Reads a pipe to its end, line by line. */
    readStream(stream) {
        if (!stream)
            return;
        const lines = this.splitter();
        stream.setEncoding('utf8');
        stream.on('data', (chunk) => lines.push(chunk));
        stream.on('end', () => lines.flush());
        stream.on('error', () => { });
    }
    onLine(listener) {
        this.listeners.push(listener);
    }
    /** The last lines the worker printed, secrets redacted. */
    lastLines(n = TAIL_LINES) {
        return this.tail.slice(-n);
    }
    info() {
        return { file: this.file, bytes: this.logBytes, truncated: this.logTruncated };
    }
    async close() {
        const log = this.log;
        this.log = undefined;
        if (!log)
            return;
        await new Promise((resolve) => log.end(() => resolve()));
        this.redactWritten();
    }
    /**
     * The file once more, with every secret the run knows by now: an app may print a password
     * before the action learns it (the DSN its settings build comes with the probe, after the
     * import printed), and the line is on disk by then. Bounded by MAX_LOG_FILE_BYTES.
     */
    redactWritten() {
        try {
            const written = readFileSync(this.file, 'utf8');
            const cleaned = written
                .split('\n')
                .map((line) => this.secrets.clean(line))
                .join('\n');
            if (cleaned !== written)
                writeFileSync(this.file, cleaned, { mode: 0o600 });
        }
        catch {
            // Unreadable or gone: nothing more of it is shown.
        }
    }
    accept(rawLine) {
        const trimmed = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
        const clipped = trimmed.length > MAX_LINE_CHARS ? `${trimmed.slice(0, MAX_LINE_CHARS)} …[line cut]` : trimmed;
        // Known secrets and credential patterns are cut before the line is kept, logged or listened to.
        const line = this.secrets.clean(clipped);
        this.tail.push(line);
        if (this.tail.length > TAIL_LINES * 2)
            this.tail.splice(0, this.tail.length - TAIL_LINES);
        this.write(line);
        for (const listener of this.listeners)
            listener(line);
    }
    open() {
        try {
            // Private to the runner's user: the log is pull-request output and may quote what it read.
            mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
            this.log = createWriteStream(this.file, { flags: 'w', mode: 0o600 });
            this.log.on('error', () => {
                this.log = undefined;
            });
        }
        catch {
            this.log = undefined;
        }
    }
    write(line) {
        const bytes = Buffer.byteLength(line) + 1;
        this.logBytes += bytes;
        if (!this.log || this.logTruncated)
            return;
        if (this.logBytes > MAX_LOG_FILE_BYTES) {
            this.logTruncated = true;
            this.log.write(`[log truncated: the worker printed more than ${MAX_LOG_FILE_BYTES} bytes]\n`);
            return;
        }
        this.log.write(`${line}\n`);
    }
}

// What the worker — pull-request code — is given to run with: the job's environment, as a `run:`
// step of the same job would see it, minus what belongs to the runner and to this step.
//
// A node action is handed more than a `run:` step (actions/runner, NodeScriptActionHandler.cs and
// Handler.cs): its inputs as INPUT_* (our token and DSN among them), the runtime's credentials
// (ACTIONS_RUNTIME_TOKEN/URL, ACTIONS_CACHE_URL, ACTIONS_RESULTS_URL, and the OIDC request
// ACTIONS_ID_TOKEN_REQUEST_TOKEN/URL, which mint tokens for cloud accounts), and — as every step
// — the step's command files: GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH, GITHUB_STATE and
// GITHUB_STEP_SUMMARY. Writing to those sets outputs, environment and PATH of later steps,
// the state our post step reads, or the summary, so the worker must not have them. The post step
// also gets STATE_* (what the main step saved). GITHUB_TOKEN/GH_TOKEN (and the gh CLI's
// enterprise spellings) are only ever set by a workflow that wants some step to have a token; the
// worker does not need one to be tested, so it gets one only when named in `worker-env`.
//
// Kept: everything else a `run:` step also gets — GITHUB_WORKSPACE, GITHUB_SHA, GITHUB_REF,
// GITHUB_EVENT_PATH (the event payload is public to the job), RUNNER_TEMP, RUNNER_TRACKING_ID
// (the runner kills what carries it at the end of the job: a safety net for a kept worker), PATH,
// HOME, CI, and the app's own variables (DATABASE_URL …) from the job's or step's `env:`.
// The CLI applies the same rule: a user's shell has no INPUT_*, but often a GITHUB_TOKEN.
/** Prefixes of names that are never passed on unless named in `worker-env`. */
const DROPPED_PREFIXES = ['INPUT_', 'ACTIONS_', 'STATE_'];
/** Names that are never passed on unless named in `worker-env`. */
const DROPPED_NAMES = new Set([
    'GITHUB_OUTPUT',
    'GITHUB_ENV',
    'GITHUB_PATH',
    'GITHUB_STATE',
    'GITHUB_STEP_SUMMARY',
    'GITHUB_TOKEN',
    'GH_TOKEN',
    'GITHUB_ENTERPRISE_TOKEN',
    'GH_ENTERPRISE_TOKEN'
]);
/** Our own variables: set by us for this worker, never inherited (a nested run must not share them). */
const OWN_PREFIX = 'CELERY_FOUNDATION_GATES_';
/** A POSIX environment variable name, as `worker-env` accepts them. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Whether the rule keeps `name` from the worker (before `worker-env` is applied). */
function isWithheld(name) {
    const upper = name.toUpperCase();
    return DROPPED_NAMES.has(upper) || DROPPED_PREFIXES.some((p) => upper.startsWith(p)) || upper.startsWith(OWN_PREFIX);
}
/**
 * The worker's environment: `inherited` without what the rule withholds (except names listed in
 * `passThrough`), then `own` — what the worker needs from us — on top. Pure: no process.env read.
 */
function workerEnvironment(inherited, passThrough, own) {
    const wanted = new Set(passThrough);
    const env = {};
    for (const [name, value] of Object.entries(inherited)) {
        if (value === undefined)
            continue;
        if (isWithheld(name) && !wanted.has(name))
            continue;
        env[name] = value;
    }
    return { ...env, ...own };
}

// The worker the action boots: `python bootstrap.py` in the user's working directory, in its own
// process group so that it and its pool children can be stopped together. This file is the
// process's life (spawn, stop, release, kill); its output goes to worker-log.ts, its boot report
// comes over fd 3 (boot-channel.ts), and a kept worker's output file is followed by file-tail.ts.
//
// node:child_process rather than execa (a devDependency the tests use). execa 9 could start this
// worker — its `detached` option is passed through, so a kept worker would survive us — but
// every way it stops a subprocess (kill(), `timeout`, `cancelSignal`, `forceKillAfterDelay`,
// `cleanup`) signals the one PID it started, never the process group with the pool children
// (its lib/terminate/*.js end in the child's own kill), and its result promise, which buffers
// output until the process ends, serves nothing here: the output is read line by line within
// bounds (worker-log.ts). What would be left for execa is the spawn call itself.
const BOOTSTRAP_PATH = fileURLToPath(new URL('./bootstrap.py', import.meta.url));
const BOOT_ENV = 'CELERY_FOUNDATION_GATES_BOOT';
class WorkerProcess {
    spec;
    events;
    exited;
    spawnedAt = performance.now();
    child;
    output;
    outputFd;
    stopTail;
    exit;
    constructor(spec, secrets) {
        this.spec = spec;
        this.outputFd = spec.outputFile ? openOutput(spec.outputFile) : undefined;
        // The hook only appends: the run's folder must exist before the worker's first connection.
        if (spec.connectionsFile)
            mkdirSync(path.dirname(spec.connectionsFile), { recursive: true });
        const out = this.outputFd ?? 'pipe';
        this.child = spawn(spec.python, [BOOTSTRAP_PATH], {
            cwd: spec.cwd,
            detached: true, // own process group: pool children are stopped with it
            stdio: ['pipe', out, out, 'pipe'],
            // The job's environment without the runner's and this step's credentials and command files.
            env: workerEnvironment(process.env, spec.passEnv ?? [], {
                [BOOT_ENV]: JSON.stringify({
                    app: spec.app,
                    argv: spec.argv,
                    task: spec.pingTask,
                    taskId: spec.taskId,
                    queue: spec.queue,
                    includePingModule: spec.includePingModule,
                    queuesFromApp: spec.queuesFromApp,
                    pingEachQueue: spec.pingEachQueue,
                    probeTask: spec.probeTask,
                    connectionsFile: spec.connectionsFile,
                    // A kept worker must not die with us; any other does (PR_SET_PDEATHSIG).
                    parentPid: spec.outputFile ? undefined : process.pid
                }),
                [RUN_MARKER_ENV]: spec.runId,
                PGAPPNAME: spec.applicationName,
                // The banner is printed to a pipe; without this it would sit in Python's buffer.
                PYTHONUNBUFFERED: '1'
            })
        });
        this.exited = new Promise((resolve) => {
            const done = (exit) => {
                if (this.exit)
                    return;
                this.exit = exit;
                resolve(exit);
            };
            this.child.once('error', (err) => done({ code: null, signal: null, afterMs: this.elapsed(), spawnError: spawnErrorText(err, spec.python, spec.cwd) }));
            // 'exit' can come before the last output is read; the evidence is in that output, so wait
            // (briefly: a pool child may hold the pipes open) for both streams to end first.
            this.child.once('exit', (code, signal) => {
                const exit = { code, signal, afterMs: this.elapsed() };
                const streams = [this.child.stdout, this.child.stderr].filter((s) => !!s && !s.readableEnded);
                // Output followed from a file (keep-worker) arrives by the 25 ms poll: give it one more.
                if (spec.outputFile)
                    return void setTimeout(() => done(exit), 60);
                if (!streams.length)
                    return done(exit);
                let open = streams.length;
                const timer = setTimeout(() => done(exit), OUTPUT_DRAIN_MS);
                for (const s of streams)
                    s.once('end', () => {
                        if (--open === 0) {
                            clearTimeout(timer);
                            done(exit);
                        }
                    });
            });
        });
        this.events = readBootReport(this.child.stdio[3], this.exited.then(describeExit$1), secrets);
        this.output = new WorkerLog(spec.logFile, secrets);
        if (spec.outputFile) {
            // What the worker wrote before this process stops following is read; a last line without
            // its newline is not (the worker is still running).
            const lines = this.output.splitter();
            this.stopTail = tailFile(spec.outputFile, (chunk) => lines.push(chunk));
        }
        this.output.readStream(this.child.stdout);
        this.output.readStream(this.child.stderr);
        // A worker that never reads its stdin must not make our writes fail the process.
        this.child.stdin?.on('error', () => { });
    }
    get pid() {
        return this.child.pid;
    }
    get hasExited() {
        return this.exit;
    }
    elapsed() {
        return performance.now() - this.spawnedAt;
    }
    onLine(listener) {
        this.output.onLine(listener);
    }
    /** The last lines the worker printed, secrets redacted. */
    lastLines(n) {
        return this.output.lastLines(n);
    }
    logInfo() {
        return this.output.info();
    }
    /** Lets the bootstrap hand over to Celery's worker command. */
    go() {
        this.command('go');
    }
    /** Tells the bootstrap not to start the worker; it exits by itself. */
    cancel() {
        this.command('stop');
    }
    command(line) {
        const stdin = this.child.stdin;
        if (!stdin || stdin.destroyed || this.exit)
            return;
        stdin.end(`${line}\n`);
    }
    /**
     * Warm shutdown (SIGTERM, as Celery documents), then SIGKILL to the whole process group when it
     * lingers. Also kills the group after a clean exit, so no pool child can outlive the run.
     */
    async stop(graceMs) {
        const t0 = performance.now();
        if (this.exit) {
            this.killGroup('SIGKILL');
            return { how: 'already-exited', ms: 0 };
        }
        this.command('stop'); // a bootstrap still waiting for `go` exits on this alone
        this.signal('SIGTERM');
        const exitedInTime = await Promise.race([this.exited.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), graceMs).unref())]);
        this.killGroup('SIGKILL');
        if (!exitedInTime)
            await Promise.race([this.exited, new Promise((r) => setTimeout(r, KILL_WAIT_MS).unref())]);
        this.stopTail?.();
        if (this.outputFd !== undefined)
            closeSync(this.outputFd);
        await this.output.close();
        // Celery handles SIGTERM with a warm shutdown and exits by itself; a process that died *of*
        // the signal (a bootstrap still importing, a worker in a blocking call) was terminated.
        const exit = this.hasExited; // set meanwhile by the exit handler
        const how = !exitedInTime ? 'killed' : exit?.signal === 'SIGTERM' ? 'terminated' : 'warm';
        return { how, ms: performance.now() - t0 };
    }
    /**
     * Leaves the worker running for the rest of the job (`keep-worker`): this process stops reading
     * its output and lets it go; the post step stops it. Only for a worker started with outputFile.
     */
    async release() {
        this.stopTail?.();
        if (this.outputFd !== undefined)
            closeSync(this.outputFd);
        this.child.unref();
        for (const s of [this.child.stdin, this.child.stdio[3]])
            s?.destroy?.();
        await this.output.close();
    }
    /** Last resort, synchronous: for process exit handlers where nothing async can run. */
    killNow() {
        this.killGroup('SIGKILL');
    }
    signal(sig) {
        // The child's own kill, not signalProcess(pid): once Node has reaped the worker it sends
        // nothing, where a bare PID could by then name another process.
        try {
            this.child.kill(sig);
        }
        catch {
            // Already gone.
        }
    }
    /** The worker leads its own group (spawned detached): the group's id is its PID. */
    killGroup(sig) {
        signalGroup(this.child.pid, sig);
    }
}
function openOutput(file) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    return openSync(file, 'a', 0o600);
}
function spawnErrorText(err, python, cwd) {
    const given = shownPython(python, cwd);
    if (err.code === 'ENOENT')
        return `python ${given} was not found (expected a Python 3 interpreter on PATH or a path to one)`;
    if (err.code === 'EACCES')
        return `python ${given} is not executable (expected a Python 3 interpreter)`;
    return `could not start python ${given}: ${err.message}`;
}
/**
 * The python input as the OS took it: a bare name is looked up on PATH, but a relative path is
 * taken from the worker's directory, working-directory (not from where the step runs), which is
 * easy to miss; so a relative path is shown with the absolute path it resolved to.
 */
function shownPython(python, cwd) {
    const given = JSON.stringify(python);
    if (!python.includes('/') || path.isAbsolute(python))
        return given;
    return `${given} (${path.resolve(cwd, python)}, relative to working-directory)`;
}
function describeExit$1(exit) {
    if (exit.spawnError)
        return exit.spawnError;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    return `the worker process ${how} after ${(exit.afterMs / 1000).toFixed(2)} s`;
}

const runtimeGate = {
    id: 'runtime',
    title: 'Runtime',
    description: 'The booted worker answers a ping sent through the Postgres broker, with the result read back from the result backend',
    foundation: true,
    needs: ['broker-config'],
    async run({ settings, facts }) {
        const outcome = await facts.ping();
        if (outcome.kind === 'result-store') {
            const probe = await facts.probe();
            return resultStoreOutcome(outcome, probe.ok ? probe.probe : undefined, facts);
        }
        return judge(outcome, facts, settings.pingTask, await transportQueue(facts));
    }
};
/** The run's queue as the transport names it, when that differs (PGMQ: `cfg_1a2b3c4d_ping`). */
async function transportQueue(facts) {
    const [probe, check] = [await facts.probe(), await facts.dataPlane()];
    if (!probe.ok || !check?.ok)
        return undefined;
    const name = planeOf(check.plane.kind).queueName(probe.probe, facts.ids.queue);
    return name === facts.ids.queue ? undefined : `${check.plane.kind.toUpperCase()} queue \`${name}\``;
}
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
function judge(o, facts, task, transportQueue) {
    // The details: the line that decided, in full (its traceback unfolded), then the last lines.
    const tail = (line) => [...(line ? [expandLogLine(line), ''] : []), 'Last lines of the worker:', ...facts.lines.lastLines(15).map((l) => summarizeLogLine(l))].join('\n');
    switch (o.kind) {
        case 'pong': {
            const ready = facts.lines.ready;
            // Just `node ready.`, whatever the log format around it (plain text, JSON …).
            const readyText = ready ? `\`${facts.ids.nodeName} ready.\`` : `no ready line (worker loglevel ${facts.lines.loglevel})`;
            const after = ready ? `${Math.max(0, Math.round(o.pongAtMs - ready.atMs))} ms after ready, ` : '';
            // A row the action cannot read is a finding whatever the task: anyone with INSERT on the
            // result table can write the row of this task id.
            const unreadable = o.result.encoding === 'undecodable';
            const unexpected = unreadable || (task === 'celery.ping' && o.result.value !== 'pong');
            return gateOutcome(unexpected ? 'warn' : 'pass', `${readyText}\n${task} answered ${o.result.display} ${after}${seconds(o.pongAtMs)} after the worker started` +
                `\nqueue \`${facts.ids.queue}\`${transportQueue ? ` (${transportQueue})` : ''}, task id \`${facts.ids.taskId}\`` +
                (unreadable ? '\nthe result row could not be read safely: check who else writes the result table' : unexpected ? "\nexpected the result 'pong'" : ''));
        }
        case 'task-failed':
            return gateOutcome('fail', `the worker ran ${task} and it failed: ${facts.redact(o.error)}`, facts.redact(o.traceback ?? tail()));
        case 'db-refused':
            return gateOutcome('fail', `the database refused the worker's connection: ${facts.redact(o.reason)}` +
                (o.line ? `\nworker: ${shorten(o.line)}` : `\n(seen by the action connecting with the worker's broker DSN)`) +
                "\ncheck the user, password, host and database in the app's broker URL, and that the server accepts this runner's connections", tail(o.line));
        case 'db-denied':
            return gateOutcome('fail', `the worker's role was denied on ${o.object}\n${shorten(o.line)}`, tail(o.line));
        case 'worker-exited': {
            // Celery's command line (click) exits 2 with `Error: …` when it rejects an option.
            const rejected = o.exit.code === 2 && o.line && /^(Error: (No such option|Invalid value|Got unexpected|Missing)|Usage:)/.test(o.line.trim());
            if (rejected)
                return gateOutcome('fail', `the worker rejected its arguments: check the worker-args input\n${shorten(o.line)}`, tail(o.line));
            const zero = o.exit.code === 0 && !o.exit.spawnError ? ' (Celery 5.2 exits 0 even on fatal errors)' : '';
            const db = o.dbError ? `\nthe database was not answering the action either: ${facts.redact(o.dbError)}` : '';
            return gateOutcome('fail', `${describeExit$1(o.exit)} before answering the ping${zero}${o.line ? `\n${shorten(o.line)}` : ''}${db}`, tail(o.line));
        }
        case 'publish-failed':
            return gateOutcome('fail', `the ping could not be published into the broker tables: ${facts.redact(o.reason)}`, tail());
        case 'db-lost':
            return gateOutcome('fail', `the database stopped answering while the worker had the ping: ${facts.redact(o.reason)}\ncheck that the database service stays up for the whole job`, tail());
        case 'no-result':
            return gateOutcome('fail', `the worker ran ${task} but no result row appeared in the result backend (task_ignore_result set?)\n${shorten(o.line)}`, tail(o.line));
        case 'timeout':
            return gateOutcome('fail', `${o.detail}\nlast line: ${shorten(facts.lines.lastLines(1)[0] ?? '(none)')}`, tail());
        case 'result-store':
            return resultStoreOutcome(o, undefined, facts);
        case 'not-run':
            return gateOutcome('fail', o.reason);
        case 'cancelled':
            return gateOutcome('skip', 'cancelled while waiting for the worker to answer');
    }
}
const shorten = (line) => summarizeLogLine(line);
/** Celery's boot WARNING, its two telling parts: the column it could not add, and why. */
function bootWarning(line) {
    const what = /Failed to add missing column '[\w$]+' to table '[\w$.]+'/.exec(line)?.[0];
    const why = /must be owner of (?:table|relation) [\w$.]+|permission denied[^"\\\n]{0,80}/.exec(line)?.[0];
    return what ? `${what}${why ? ` (${why})` : ''}` : shorten(line);
}
/**
 * The worker cannot store (or read) results: the cause in its words, and the fix. A column the
 * installed Celery's model has and the table lacks (tables made by an older Celery, a role that
 * does not own them so Celery could not add it) is added by the table's owner.
 */
function resultStoreOutcome(o, probe, facts) {
    const tail = ['', 'Last lines of the worker:', ...facts.lines.lastLines(15).map((l) => summarizeLogLine(l))];
    const details = [expandLogLine(o.line), ...(o.warning ? ['', expandLogLine(o.warning)] : []), ...tail].join('\n');
    const lines = [`the worker cannot store or read results in ${o.table}: ${facts.redact(o.cause)}`];
    if (o.warning)
        lines.push(`at boot: ${facts.redact(bootWarning(o.warning))}`);
    if (o.columns.length) {
        const t = probe?.tables;
        const model = o.table === t?.task ? probe?.drift?.result_tables?.task : o.table === t?.group ? probe?.drift?.result_tables?.group : undefined;
        const schema = o.table === t?.task ? t.task_schema : o.table === t?.group ? t.group_schema : undefined;
        const celery = probe?.versions.celery ? `Celery ${probe.versions.celery}` : 'the installed Celery';
        lines.push(`${o.table} lacks ${o.columns.map((c) => `\`${c}\``).join(', ')}, which ${celery}'s result model has; the worker's role cannot add ${o.columns.length > 1 ? 'them' : 'it'} (not the table's owner)`, `fix: the table's owner runs \`${addColumnsStatement(o.table, schema, model, o.columns)}\``);
    }
    else
        lines.push("check that the result tables match the installed Celery (db-access compares them) and that the worker's role may write them");
    return gateOutcome('fail', lines.join('\n'), details);
}

const tasksGate = {
    id: 'tasks',
    title: 'Tasks',
    description: 'The tasks the app registers are the tasks the worker registered (its own list), including every expected task',
    foundation: true,
    needs: ['import'],
    async run({ settings, facts }) {
        const outcome = await facts.probe();
        if (!outcome.ok)
            return gateOutcome('fail', 'the app did not import');
        await facts.ping(); // the worker has printed its banner (with its task list) by then
        const listed = facts.lines.bannerTasks;
        if (!listed)
            return gateOutcome('skip', 'not run: the worker printed no task list (it did not get as far as its banner)');
        // Celery leaves its own tasks (celery.*) out of the banner; so does this comparison.
        const worker = new Set(listed.filter((t) => !t.startsWith('celery.')));
        const app = new Set(outcome.probe.tasks.filter((t) => !t.startsWith('celery.')));
        const onlyApp = [...app].filter((t) => !worker.has(t));
        const onlyWorker = [...worker].filter((t) => !app.has(t));
        const missing = settings.expectedTasks.filter((t) => !worker.has(t) && !(t.startsWith('celery.') && outcome.probe.tasks.includes(t)));
        const problems = [
            ...missing.map((t) => `expected task ${t} is not registered in the worker — is its module in the app's include list?`),
            ...onlyApp.map((t) => `${t} is registered in the app but not in the worker`)
        ];
        const lines = [`${worker.size} tasks registered in the worker${onlyApp.length ? '' : ', as the app defines them'}`];
        if (settings.expectedTasks.length && !missing.length)
            lines.push(`all ${settings.expectedTasks.length} expected tasks registered`);
        if (onlyWorker.length)
            lines.push(`also in the worker (from its -I/--include): ${listWithMore(onlyWorker, { noun: ['task', 'tasks'], where: "see the gate's details" })}`);
        // An app can register thousands of tasks: the evidence has the first problems and says how
        // many more; the details have them all.
        const cut = problems.length > EVIDENCE_LIST_ITEMS || onlyWorker.length > EVIDENCE_LIST_ITEMS;
        const details = cut ? [...problems, ...(onlyWorker.length ? ['Also in the worker:', ...onlyWorker] : [])].join('\n') : undefined;
        const shown = linesWithMore(problems, { noun: ['problem', 'problems'], where: "see the gate's details" });
        return problems.length ? gateOutcome('fail', [...shown, ...lines].join('\n'), details) : gateOutcome('pass', lines.join('\n'), details);
    }
};

const tenantIsolationGate = {
    id: 'tenant-isolation',
    title: 'Tenant isolation',
    description: "As the worker's role: no tenant set shows no row, a random tenant shows none of the existing rows, row_security=off is refused, the tenant setting ends with its transaction",
    foundation: true,
    needs: ['broker-config'],
    async run({ settings, facts }) {
        const plane = await facts.dataPlane();
        if (!plane?.ok)
            return gateOutcome('fail', 'no PostgreSQL data plane to check');
        // The worker's own DSN: what its tasks see is what this gate must see.
        const connected = await connectForChecks(facts, "as the worker's role", () => connect(plane.plane.broker.parts, { connectTimeoutMs: 5000 }));
        if ('outcome' in connected)
            return connected.outcome;
        const { db } = connected;
        try {
            return await isolationChecks(db, settings.tenantTables);
        }
        finally {
            await db.close();
        }
    }
};
async function isolationChecks(db, named) {
    const all = named ? await namedTenantTables(db, named) : await discoverTenantTables(db);
    // A malformed entry fails rls-role (which owns the input); here it is only named, so one typo
    // is one failed gate, and the other entries are still checked.
    const skipped = all.filter((t) => t.malformed !== undefined).map((t) => malformedEntryFinding(t.name, t.malformed));
    const skippedNote = linesWithMore(skipped, { noun: ['entry', 'entries'], where: 'see rls-role' });
    const tables = all.filter((t) => t.exists);
    // No tenant table found by discovery: there is nothing to isolate, and a project without tenants
    // would see a warning on every run. The gate did not run, so it says `skip` (not a pass, which
    // would claim isolation it never checked), once, with how to turn it on; rls-role says the same
    // as a note. Named tables that do not exist are the user's mistake: still a warning here (and a
    // failure of rls-role, which owns the input).
    if (!tables.length)
        return named
            ? gateOutcome('warn', ['no tenant table to check: no entry of tenant-tables names an existing table (rls-role says which)', ...skippedNote].join('\n'))
            : gateOutcome('skip', 'no tenant table: isolation not checked (set tenant-tables, or add a tenant_id column)');
    const settingsRead = await tenantSettings(db, tables);
    const problems = [];
    const notes = [];
    const role = db.role;
    // A session starts with no tenant: a role or database default would give every task one.
    for (const s of settingsRead) {
        const value = await scalar(db, 'SELECT current_setting($1, true) AS v', [s.name]);
        if (value)
            problems.push(`a new session of ${role} starts with ${s.name} = ${JSON.stringify(value)} (a role or database default): every task sees that tenant — ALTER ROLE ${quoteIdent(role)} RESET ${quoteSettingName(s.name)}`);
    }
    for (const s of settingsRead.filter((x) => !x.missingOk))
        notes.push(`a policy reads ${s.name} without missing_ok (current_setting(${quoteLiteral(s.name)}) raises when it is unset): write current_setting(${quoteLiteral(s.name)}, true)`);
    // Every check covers all tables in one statement where it can (a schema may have hundreds of
    // tenant tables, and this gate is on the step's wall time); table by table only to say which
    // one raised.
    const names = tables.map((t) => t.qualifiedName);
    // 1. No tenant set: deny by default.
    const none = await countEach(db, names);
    names.forEach((name, i) => {
        const n = none[i];
        if (typeof n === 'string')
            notes.push(`${name} with no tenant set: ${n}`);
        else if (n > 0)
            problems.push(`${name}: ${n} rows visible with no tenant set — deny by default is broken (a permissive policy, or RLS that does not apply to ${role})`);
    });
    // 2. A random tenant, inside a transaction: none of the existing rows; 3. it ends with it. The
    // tenant is a value of the tables' tenant_id type: a uuid set for an integer column makes the
    // policy raise, which proves nothing.
    const kinds = await tenantKinds(db, names);
    const groups = new Map();
    names.forEach((name, i) => {
        const kind = kinds[i];
        if (kind.kind === 'other')
            notes.push(`${name}: tenant_id is ${kind.type}: the random-tenant check did not run (it knows integer, uuid and text tenant ids)`);
        else {
            const group = groups.get(JSON.stringify(kind)) ?? { kind, names: [] };
            group.names.push(name);
            groups.set(JSON.stringify(kind), group);
        }
    });
    for (const s of settingsRead) {
        for (const { kind, names: group } of groups.values()) {
            const stranger = await countEachAsTenant(db, s.name, randomTenant(kind), group);
            group.forEach((name, i) => {
                const n = stranger[i];
                if (typeof n === 'string')
                    notes.push(`${name} as a random tenant: ${n}`);
                else if (n > 0)
                    problems.push(`${name}: a random tenant (${s.name}) sees ${n} existing rows`);
            });
        }
        const after = await scalar(db, 'SELECT current_setting($1, true) AS v', [s.name]);
        if (after)
            problems.push(`${s.name} is still ${JSON.stringify(after)} after the transaction that set it: it would leak to the next task on this connection`);
    }
    // 4. row_security = off must be refused for a role RLS applies to.
    for (const name of await readableWithoutRowSecurity(db, names))
        problems.push(`${name}: with row_security = off ${role} still reads it — RLS does not apply to ${role} (SUPERUSER, BYPASSRLS, or the owner without FORCE)`);
    if (!settingsRead.length)
        notes.push('no policy reads a tenant setting (current_setting(…)): the random-tenant and leak checks did not run');
    // The evidence names the first tables and says how many more; the details name them all.
    const tableNames = tables.map((t) => t.qualifiedName);
    const checked = `${formatCount(tables.length)} tenant table${tables.length > 1 ? 's' : ''} as ${role}: ${listWithMore(tableNames, { noun: ['table', 'tables'], where: "see the gate's details" })}`;
    const details = tables.length > EVIDENCE_LIST_ITEMS || problems.length > EVIDENCE_LIST_ITEMS || notes.length > EVIDENCE_LIST_ITEMS
        ? [...problems, ...notes, 'Tables checked:', ...tableNames].join('\n')
        : undefined;
    const shown = (lines, noun) => linesWithMore(lines, { noun, where: "see the gate's details" });
    if (problems.length)
        return gateOutcome('fail', [...shown(problems, ['problem', 'problems']), ...shown(notes, ['note', 'notes']), checked, ...skippedNote].join('\n'), details);
    const setting = settingsRead.map((s) => s.name).join(', ');
    const lines = [
        `${checked} — no row without a tenant${setting ? `, none for a random tenant (${setting}), the setting ends with its transaction` : ''}, row_security = off refused`,
        ...skippedNote
    ];
    return notes.length ? gateOutcome('warn', [...shown(notes, ['note', 'notes']), ...lines].join('\n'), details) : gateOutcome('pass', lines.join('\n'), details);
}
const INTEGER_MAX = new Map([
    ['smallint', 32767],
    ['integer', 2147483647],
    ['bigint', Number.MAX_SAFE_INTEGER]
]);
/** What a tenant id of this type is (a domain counts as its base type); no tenant_id column → uuid, as policies mostly cast. */
function tenantKindOf(type) {
    if (type === null)
        return { kind: 'uuid' };
    const max = INTEGER_MAX.get(type);
    if (max !== undefined)
        return { kind: 'integer', max };
    if (type === 'uuid')
        return { kind: 'uuid' };
    if (/^([\w.]+\.)?(text|citext|name|character varying|character|bpchar)(\(\d+\))?$/.test(type))
        return { kind: 'text' };
    return { kind: 'other', type };
}
/**
 * A tenant no row has: a uuid, a short random string, or a negative integer within the type's
 * range (tenant ids from a sequence or an identity column start at 1; the role cannot read max()
 * through its own policy).
 */
function randomTenant(kind) {
    if (kind.kind === 'integer')
        return String(-randomInt(1, Math.min(kind.max, 2 ** 47)));
    if (kind.kind === 'text')
        return `cfg-stranger-${randomBytes(6).toString('hex')}`;
    return randomUUID();
}
/** Each table's tenant_id type, in order (its base type for a domain; null without the column). */
async function tenantKinds(db, tables) {
    const rows = await db.query(`SELECT x.i::int AS i, format_type(CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END, NULL) AS type
       FROM unnest($1::text[]) WITH ORDINALITY AS x(n, i)
       LEFT JOIN pg_attribute a ON a.attrelid = to_regclass(x.n) AND a.attname = 'tenant_id' AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_type t ON t.oid = a.atttypid`, [tables]);
    const kinds = tables.map(() => ({ kind: 'uuid' }));
    for (const r of rows)
        kinds[r.i - 1] = tenantKindOf(r.type);
    return kinds;
}
/** The settings the tables' policies read with current_setting(), and whether with missing_ok. */
async function tenantSettings(db, tables) {
    const rows = await db.query(`SELECT coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') AS expr
       FROM pg_policy p WHERE p.polrelid = ANY(SELECT to_regclass(n) FROM unnest($1::text[]) AS n)`, [tables.map((t) => t.qualifiedName)]);
    const found = new Map();
    for (const { expr } of rows) {
        for (const m of expr.matchAll(/current_setting\('([^']+)'(?:::text)?\s*(,\s*(?:true|'t(?:rue)?'(?:::boolean)?))?\s*\)/g)) {
            const name = m[1];
            found.set(name, (found.get(name) ?? true) && !!m[2]);
        }
    }
    return [...found].map(([name, missingOk]) => ({ name, missingOk }));
}
async function scalar(db, sql, params) {
    const [row] = await db.query(sql, params);
    return row?.v ?? null;
}
/** Rows visible, or the error the query raised (a policy without missing_ok raises). */
async function countRows(db, table) {
    try {
        return Number(await scalar(db, `SELECT count(*)::text AS v FROM ${table}`, []));
    }
    catch (err) {
        return describeDbError(err).message;
    }
}
/** Rows visible in each table, in one statement; undefined when it raised. */
async function countAll(db, tables) {
    const sql = tables.map((t, i) => `SELECT ${i} AS i, count(*)::int AS n FROM ${t}`).join(' UNION ALL ');
    try {
        const counts = [];
        for (const row of await db.query(sql))
            counts[row.i] = row.n;
        return counts;
    }
    catch {
        return undefined;
    }
}
/** Rows visible in each table, or the error its query raised. */
async function countEach(db, tables) {
    const all = await countAll(db, tables);
    if (all)
        return all;
    const each = [];
    for (const t of tables)
        each.push(await countRows(db, t));
    return each;
}
/** The same as one tenant, set for a transaction that is then committed, as a task's would be. */
async function countEachAsTenant(db, setting, tenant, tables) {
    let all;
    await db.query('BEGIN');
    try {
        await db.query('SELECT set_config($1, $2, true)', [setting, tenant]);
        all = await countAll(db, tables);
    }
    finally {
        await db.query(all ? 'COMMIT' : 'ROLLBACK').catch(() => db.query('ROLLBACK').catch(() => { }));
    }
    if (all)
        return all;
    const each = [];
    for (const t of tables)
        each.push(await asTenant(db, setting, tenant, t));
    return each;
}
async function asTenant(db, setting, tenant, table) {
    await db.query('BEGIN');
    try {
        await db.query('SELECT set_config($1, $2, true)', [setting, tenant]);
        return await countRows(db, table);
    }
    finally {
        await db.query('COMMIT').catch(() => db.query('ROLLBACK').catch(() => { }));
    }
}
/**
 * The tables the role can still read with row_security = off (each must refuse it). PostgreSQL
 * refuses exactly where row_security_active() is true (both are check_enable_rls), so one query
 * screens every table; the others are tried for real, each in a transaction of its own.
 */
async function readableWithoutRowSecurity(db, tables) {
    const rows = await db.query('SELECT i::int AS i, row_security_active(n::regclass) AS active FROM unnest($1::text[]) WITH ORDINALITY AS t(n, i)', [tables]);
    const suspects = rows.filter((r) => !r.active).map((r) => tables[r.i - 1]);
    const readable = [];
    for (const t of suspects)
        if (await rowSecurityOff(db, t))
            readable.push(t);
    return readable;
}
/** Whether the role can still read the table with row_security = off (it must be refused). */
async function rowSecurityOff(db, table) {
    await db.query('BEGIN');
    try {
        await db.query('SET LOCAL row_security = off');
        await db.query(`SELECT 1 FROM ${table} LIMIT 1`);
        return true;
    }
    catch {
        return false;
    }
    finally {
        await db.query('ROLLBACK').catch(() => { });
    }
}

/** Every gate, in matrix order (the public order of gate ids, GATE_IDS). */
const ALL_GATES = [
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
];
/** The gates the `gates` input asks for, in matrix order. */
function selectGates(ids) {
    return ALL_GATES.filter((g) => ids.includes(g.id));
}

function onCancellation(handlers) {
    let cancelling = false;
    const listener = (signal) => {
        if (!cancelling) {
            cancelling = true;
            handlers.cancel(signal);
            // SIGTERM alone (no SIGINT first) leaves ~2.5 s: do not wait for a warm shutdown.
            if (signal === 'SIGTERM')
                handlers.hurry(signal);
            return;
        }
        handlers.hurry(signal);
    };
    process.on('SIGINT', listener);
    process.on('SIGTERM', listener);
    return () => {
        process.off('SIGINT', listener);
        process.off('SIGTERM', listener);
    };
}

// The action's inputs: the one table of their defaults and short descriptions. settings.ts fills
// an empty input with its default from here, the CLI's flags take their defaults and --help from
// here, and test/unit/inputs.test.ts holds action.yml (what the runner reads) to the same names,
// defaults and required flags. A table in code rather than action.yml read at start: a run would
// otherwise load a YAML parser before its first line (cold start).
const INPUTS = {
    [Inputs.App]: { default: '', required: true, summary: 'the Celery app as given to `celery -A` (required), e.g. app.celery_app' },
    [Inputs.WorkingDirectory]: { default: '.', summary: 'where the app is importable from and where the worker runs' },
    [Inputs.Python]: {
        default: 'python3',
        summary: "interpreter that has the app's dependencies (a name on PATH, or a path; a relative path is taken from --working-directory)"
    },
    [Inputs.WorkerArgs]: { default: '', summary: 'extra worker arguments, e.g. "--pool=prefork --concurrency=2" (split like a shell, never run through one)' },
    [Inputs.WorkerEnv]: {
        default: '',
        summary: 'variables the worker gets although the rule withholds them (GITHUB_TOKEN, GH_TOKEN, INPUT_*, ACTIONS_* …), comma separated'
    },
    [Inputs.DatabaseUrl]: { default: '', summary: "DSN for the tool's own SQL checks (default: derived from the app's broker URL)" },
    [Inputs.ExpectedRole]: { default: 'app_user', summary: 'role every worker database session must use' },
    [Inputs.AllowedRoles]: {
        default: '',
        summary: 'other roles the worker may connect as besides expected-role (comma or newline separated); each is held to the same rules'
    },
    [Inputs.PingTask]: { default: 'celery.ping', summary: 'task sent for the data-plane ping' },
    [Inputs.Timeout]: { default: '60', summary: 'seconds the worker gets to answer the ping (1–3600)' },
    [Inputs.TenantTables]: { default: '', summary: 'tables that must have RLS enabled and forced (default: every table with a tenant_id column)' },
    [Inputs.FailOn]: { default: 'foundation', summary: 'foundation | any | never: what makes the exit code 1' },
    [Inputs.Junit]: { default: '', summary: 'JUnit XML reports to classify, comma-separated globs relative to the working directory' },
    [Inputs.TaxonomyRules]: { default: '', summary: 'YAML or JSON classification rules, tried before the shipped ones' },
    [Inputs.Gates]: { default: '', summary: 'gates to run, comma or space separated (default: all; dlq only with --dlq-table)' },
    [Inputs.ExpectedTasks]: { default: '', summary: 'task names the worker must have registered (the tasks gate)' },
    [Inputs.LogFields]: { default: 'level,logger,message', summary: 'fields every JSON log line must carry (the logs gate)' },
    [Inputs.DlqTable]: { default: '', summary: 'the dead-letter table (the dlq gate runs only with it)' },
    [Inputs.DlqProbeTask]: { default: '', summary: 'a task that fails on purpose; it must leave exactly one row in the dead-letter table' },
    [Inputs.KeepWorker]: { default: 'false', summary: 'leave the verified worker running afterwards (prints its pid and how to stop it)' },
    [Inputs.GithubToken]: { default: '', summary: 'token for pull-request feedback when run inside GitHub Actions (GITHUB_* variables)' },
    [Inputs.PrComment]: {
        default: 'true',
        summary: 'no pull-request comment (by default, with --github-token on a pull_request event, one comment is kept up to date)'
    },
    [Inputs.CheckRun]: { default: 'false', summary: 'with --github-token: create the check run `Celery foundation gates`' }
};
/** A yes/no input: a switch on the command line (`--keep-worker`, `--no-pr-comment`). */
const isSwitch = (name) => INPUTS[name].default === 'true' || INPUTS[name].default === 'false';

var shellQuote = {};

var quote;
var hasRequiredQuote;

function requireQuote () {
	if (hasRequiredQuote) return quote;
	hasRequiredQuote = 1;

	/** @import { ControlOperator } from './parse' */

	/** @type {ControlOperator['op'][]} */
	var OPS = /** @type {const} */ ([
		'||',
		'&&',
		';;&',
		';;',
		';&',
		'|&',
		'<(',
		'>(',
		'<<<',
		'<<-',
		'<<',
		'>>',
		'>&',
		'>|',
		'&>>',
		'&>',
		'<&',
		'<>',
		'&',
		';',
		'(',
		')',
		'|',
		'<',
		'>'
	]);
	var LINE_TERMINATORS = /[\n\r\u2028\u2029]/;
	var GLOB_SHELL_SPECIAL = /[\s#!"$&'():;<=>@\\^`|~]/g;

	/** @type {typeof import('./quote')} */
	quote = function quote(xs) {
		var sawComment = false;
		return xs.map(function (s) {
			if (sawComment && typeof s === 'string' && LINE_TERMINATORS.test(s)) {
				throw new TypeError('a token after a `comment` must not contain line terminators');
			}
			if (s === '') {
				return /** @type {const} */ ('\'\'');
			}
			if (s && typeof s === 'object') {
				if ('op' in s && s.op === 'glob') {
					if (typeof s.pattern !== 'string') {
						throw new TypeError('glob token requires a string `pattern`');
					}
					if (LINE_TERMINATORS.test(s.pattern)) {
						throw new TypeError('glob `pattern` must not contain line terminators');
					}
					if (s.pattern === '') {
						return /** @type {const} */ ('\'\'');
					}
					return s.pattern.replace(GLOB_SHELL_SPECIAL, '\\$&');
				}
				if ('op' in s && typeof s.op === 'string') {
					if (OPS.indexOf(s.op) < 0) {
						throw new TypeError('invalid `op` value: ' + JSON.stringify(s.op));
					}
					return s.op.replace(/[\s\S]/g, '\\$&');
				}
				if ('comment' in s && typeof s.comment === 'string') {
					if (LINE_TERMINATORS.test(s.comment)) {
						throw new TypeError('`comment` must not contain line terminators');
					}
					sawComment = true;
					return '#' + s.comment;
				}
				throw new TypeError('unrecognized object token shape');
			}
			if ((/'/).test(s) && (/!/).test(s)) {
				return "'" + s.replace(/'/g, "'\"'\"'") + "'";
			}
			if ((/["\s\\]/).test(s) && !(/'/).test(s)) {
				return "'" + s + "'";
			}
			if ((/["'\s]/).test(s)) {
				return '"' + s.replace(/(["\\$`])/g, '\\$1') + '"';
			}
			return String(s).replace(/([A-Za-z]:)?([#!"$&'()*,:;<=>?@[\\\]^`{|}~])/g, '$1\\$2');
		}).join(' ');
	};
	return quote;
}

var parse;
var hasRequiredParse;

function requireParse () {
	if (hasRequiredParse) return parse;
	hasRequiredParse = 1;

	/**
	 * @import {
	 * 	ControlOperator,
	 * 	Env,
	 * 	GlobPattern,
	 * 	ParseEntry,
	 * } from './parse' */

	// '<(' and '>(' are process substitution operators and
	// can be parsed the same as control operator
	var CONTROL = /** @type {const} */ ('(?:') + /** @type {const} */ ([
		'\\|\\|',
		'\\&(?:\\&|>>?)', // `&&`, `&>`, and `&>>`
		';;\\&?', // `;;` and `;;&`
		'[;|]\\&', // `;&` and `|&`
		'\\<\\(',
		'\\<\\<\\<',
		'\\<\\<-',
		'\\<\\<(?!\\()', // `<<(` stays `<` and `<(`, as zsh reads it; other shells reject it
		'>>',
		'>[&|(]', // `>&`, `>|`, and `>(`
		'<[&>]', // `<&` and `<>`
		'[&;()|<>]'
	]).join(/** @type {const} */ ('|')) + /** @type {const} */ (')');
	var controlRE = new RegExp('^' + CONTROL + '$');
	var META = /** @type {const} */ ('|&;()<> \\t');
	var SINGLE_QUOTE = /** @type {const} */ ('\'([^\']*?)\'');
	// bash ANSI-C quoting, `$'...'`: a backslash escapes the next character, including `'`
	var ANSI_C_BODY = '(?:\\\\[\\s\\S]|[^\\\\\'])*?';
	var ANSI_C_QUOTE = '\\$\'' + ANSI_C_BODY + '\'';
	var ansiCAt = new RegExp('\\$\'' + ANSI_C_BODY + '(?:(\')|\\\\?$)', 'g');
	var ANSI_C_LETTERS = 'abeEfnrtv';
	var ANSI_C_CHARS = '\x07\b\x1B\x1B\f\n\r\t\v';
	var hash = /^#$/;

	var SQ = /** @type {const} */ ("'");
	var DQ = /** @type {const} */ ('"');
	var DS = /** @type {const} */ ('$');

	var TOKEN = '';
	var mult = /** @type {const} */ (0x100000000); // Math.pow(16, 8);
	for (var i = 0; i < 4; i++) {
		TOKEN += (mult * Math.random()).toString(16);
	}
	var startsWithToken = new RegExp('^' + TOKEN);

	/**
	 * @param {string} s
	 * @param {RegExp} r
	 */
	function matchAll(s, r) {
		var origIndex = r.lastIndex;

		var matches = [];
		var matchObj;

		while ((matchObj = r.exec(s))) {
			matches[matches.length] = matchObj;
			if (r.lastIndex === matchObj.index) {
				r.lastIndex += 1;
			}
		}

		r.lastIndex = origIndex;

		return matches;
	}

	/**
	 * @param {Env} env
	 * @param {string} pre
	 * @param {string} key
	 */
	function getVar(env, pre, key) {
		var r = typeof env === 'function' ? env(key) : env[key];
		if (typeof r === 'undefined' && key != '') {
			r = '';
		} else if (typeof r === 'undefined') {
			r = '$';
		}

		if (typeof r === 'object') {
			return pre + TOKEN + JSON.stringify(r) + TOKEN;
		}
		return pre + r;
	}

	var ansiCEscape = /\\([0-7]{1,3}|x[\dA-Fa-f]{1,2}|u[\dA-Fa-f]{1,4}|U[\dA-Fa-f]{1,8}|c(?:\\\\|[\s\S])|[abeEfnrtv\\'"?])/g;

	/**
	 * @param {string} m
	 * @param {string} escape
	 */
	function expandAnsiCEscape(m, escape) {
		var kind = escape.charAt(0);
		if (kind === 'c') {
			var ctrl = escape.charAt(1);
			return ctrl === '?' ? '\x7F' : String.fromCharCode(ctrl.charCodeAt(0) & 0x1F);
		}
		if (kind === 'x' || kind === 'u' || kind === 'U') {
			var cp = parseInt(escape.slice(1), 16);
			if (cp > 0x10FFFF) {
				return m;
			}
			return String.fromCharCode.apply(null, cp > 0xFFFF ? [0xD7C0 + (cp >> 10), 0xDC00 + (cp & 0x3FF)] : [cp]);
		}
		if (kind >= '0' && kind <= '7') {
			return String.fromCharCode(parseInt(escape, 8) & 0xFF);
		}
		var letter = ANSI_C_LETTERS.indexOf(escape);
		return letter < 0 ? escape : ANSI_C_CHARS.charAt(letter);
	}

	/** @param {string} body */
	function expandAnsiC(body) {
		return body.replace(ansiCEscape, expandAnsiCEscape).split('\0')[0]; // like bash, a NUL ends the string
	}

	/**
	 * @param {string} s
	 * @param {number} i
	 */
	function closesAnsiC(s, i) {
		ansiCAt.lastIndex = i;
		return !!(/** @type {RegExpExecArray} */ (ansiCAt.exec(s)))[1];
	}

	/**
	 * @param {string} string
	 * @param {Env} [env]
	 * @param {{ escape?: string, splitUnquoted?: boolean | string }} [opts]
	 * @returns {ParseEntry[]}
	 */
	function parseInternal(string, env, opts) {
		if (!opts) {
			opts = {};
		}
		var BS = opts.escape || '\\';
		var ifs = opts.splitUnquoted === true ? ' \t\n' : (typeof opts.splitUnquoted === 'string' ? opts.splitUnquoted : '');
		var BAREWORD = '(\\' + BS + '[\'"$\\' + BS + META + ']|\\$\\$|\\$(?!' + ANSI_C_QUOTE.slice(2) + ')|[^\\s\'"$' + META + '])+';
		var DOUBLE_QUOTE = '"(?:\\' + BS + '[\\s\\S]|[^"\\' + BS + '])*"';

		var chunker = new RegExp([
			'(' + CONTROL + ')', // control chars
			'(' + ANSI_C_QUOTE + '|' + BAREWORD + '|' + DOUBLE_QUOTE + '|' + SINGLE_QUOTE + ')+'
		].join('|'), 'g');

		var matches = matchAll(string, chunker);

		if (matches.length === 0) {
			return [];
		}
		if (!env) {
			env = {};
		}

		var commented = false;

		return matches.map(function (match) {
			var s = match[0];
			if (!s || commented) {
				return void undefined;
			}
			if (controlRE.test(s)) {
				return /** @type {ControlOperator} */ ({ op: s });
			}

			// Hand-written scanner/parser for Bash quoting rules:
			//
			// 1. inside single quotes, all characters are printed literally.
			// 2. inside double quotes, all characters are printed literally
			//    except variables prefixed by '$' and backslashes followed by
			//    either a double quote or another backslash.
			// 3. outside of any quotes, backslashes are treated as escape
			//    characters and not printed (unless they are themselves escaped)
			// 4. quote context can switch mid-token if there is no whitespace
			//     between the two quote contexts (e.g. all'one'"token" parses as
			//     "allonetoken")
			/** @type {string | boolean} */
			var quote = false;
			var esc = false;
			var out = '';
			/** @type {string[]} */
			var words = [];
			var sawQuote = false;
			/** @type {number | null} */
			var pendingNw = null;
			var isGlob = false;
			/** @type {number} */
			var i;

			function parseEnvVar() {
				i += 1;
				/** @type {number | RegExpMatchArray | null} */
				var varend;
				/** @type {string} */
				var varname;
				var char = s.charAt(i);

				if (char === '{') {
					i += 1;
					if (s.charAt(i) === '}') {
						throw new Error('Bad substitution: ' + s.slice(i - 2, i + 1));
					}
					// match braces by depth so a nested `${` keeps its inner `}` from ending the outer substitution
					var depth = 1;
					varend = i;
					while (depth > 0 && varend < s.length) {
						if (s.charAt(varend) === '{' && s.charAt(varend - 1) === '$') {
							depth += 1;
						} else if (s.charAt(varend) === '}') {
							depth -= 1;
						}
						varend += 1;
					}
					if (depth !== 0) {
						throw new Error('Bad substitution: ' + s.slice(i));
					}
					varend -= 1;
					varname = s.slice(i, varend);
					i = varend;
				} else if ((/[*@#?$!-]/).test(char)) {
					varname = char;
				} else {
					var slicedFromI = s.slice(i);
					varend = slicedFromI.match(/[^\w\d_]/);
					if (!varend) {
						varname = slicedFromI;
						i = s.length;
					} else {
						varname = slicedFromI.slice(0, varend.index);
						i += /** @type {number} */ (varend.index) - 1;
					}
				}
				return getVar(/** @type {NonNullable<typeof env>} */ (env), '', varname);
			}

			function flushRun() {
				if (pendingNw === null) {
					return;
				}
				if (pendingNw === 0) {
					if (out !== '') {
						words[words.length] = out;
						out = '';
					}
				} else {
					words[words.length] = out;
					out = '';
					for (var fe = 1; fe < pendingNw; fe += 1) {
						words[words.length] = '';
					}
				}
				pendingNw = null;
			}

			for (i = 0; i < s.length; i++) {
				var c = s.charAt(i);
				if (ifs && c !== DS) {
					flushRun();
				}
				isGlob = isGlob || (!quote && (c === '*' || c === '?'));
				if (esc) {
					out += c;
					esc = false;
				} else if (quote) {
					if (c === quote) {
						quote = false;
					} else if (quote == SQ) {
						out += c;
					} else { // Double quote
						if (c === BS) {
							i += 1;
							c = s.charAt(i);
							if (c === DQ || c === BS || c === DS) {
								out += c;
							} else {
								out += BS + c;
							}
						} else if (c === DS) {
							out += parseEnvVar();
						} else {
							out += c;
						}
					}
				} else if (c === DQ || c === SQ) {
					quote = c;
					sawQuote = true;
				} else if (controlRE.test(c)) {
					return /** @type {ControlOperator} */ ({ op: s });
				} else if (hash.test(c)) {
					commented = true;
					var commentObj = { comment: string.slice(match.index + i + 1) };
					if (out.length) {
						return /** @type {const} */ ([out, commentObj]);
					}
					return /** @type {const} */ ([commentObj]);
				} else if (c === BS) {
					esc = true;
				} else if (c === DS && s.charAt(i + 1) === SQ && closesAnsiC(s, i)) {
					flushRun();
					sawQuote = true;
					out += expandAnsiC(s.slice(i + 2, ansiCAt.lastIndex - 1));
					i = ansiCAt.lastIndex - 1;
				} else if (c === DS) {
					var value = parseEnvVar();
					if (!ifs) {
						out += value;
					} else {
						for (var vi = 0; vi < value.length; vi += 1) {
							var vc = value.charAt(vi);
							if (ifs.indexOf(vc) < 0) {
								flushRun();
								out += vc;
							} else if (pendingNw === null) {
								pendingNw = vc === ' ' || vc === '\t' || vc === '\n' ? 0 : 1;
							} else if (vc !== ' ' && vc !== '\t' && vc !== '\n') {
								pendingNw += 1;
							}
						}
					}
				} else {
					out += c;
				}
			}

			if (isGlob) {
				return /** @type {GlobPattern} */ ({ op: 'glob', pattern: out });
			}

			if (ifs) {
				if (pendingNw !== null && pendingNw > 0) {
					words[words.length] = out;
					out = '';
					for (var te = 1; te < pendingNw; te += 1) {
						words[words.length] = '';
					}
				}
				if (out !== '' || (sawQuote && words.length === 0)) {
					words[words.length] = out;
				}
				return words;
			}

			return out;
		}).reduce(function (prev, arg) { // finalize parsed arguments
			if (typeof arg === 'undefined') {
				return prev;
			}
			/** @type {ParseEntry[]} */ ([]).concat(arg).forEach(function (entry) {
				prev[prev.length] = entry;
			});
			return prev;
		}, /** @type {ParseEntry[]} */ ([]));
	}

	/** @type {typeof import('./parse')} */
	parse = function parse(s, env, opts) {
		var mapped = parseInternal(s, env, opts);
		if (typeof env !== 'function') {
			return mapped;
		}
		return mapped.reduce(function (acc, s) {
			if (typeof s === 'object') {
				acc[acc.length] = s;
				return acc;
			}
			var xs = s.split(RegExp('(' + TOKEN + '.*?' + TOKEN + ')', 'g'));
			if (xs.length === 1) {
				acc[acc.length] = xs[0];
				return acc;
			}
			xs.filter(Boolean).forEach(function (x) {
				acc[acc.length] = startsWithToken.test(x)
					? JSON.parse(x.split(TOKEN)[1])
					: x;
			});
			return acc;
		}, /** @type {ParseEntry[]} */ ([]));
	};
	return parse;
}

var hasRequiredShellQuote;

function requireShellQuote () {
	if (hasRequiredShellQuote) return shellQuote;
	hasRequiredShellQuote = 1;

	shellQuote.quote = requireQuote();
	shellQuote.parse = requireParse();
	return shellQuote;
}

var shellQuoteExports = requireShellQuote();

// The user's `worker-args` are split like a POSIX shell would split them (quotes, escapes), but
// never run through a shell: operators, globs and substitutions are rejected, not interpreted.
// The action then takes over the options that make a run its own (node name, queues) and merges
// those that Celery would otherwise let the last occurrence win (queues, includes).
/** Short options of `celery worker` that take a value; the others (-D, -E, -B) are flags. */
const SHORT_WITH_VALUE = new Set(['n', 'S', 'l', 'O', 'c', 'P', 'Q', 'X', 'I', 's', 'f']);
function splitWorkerArgs(input) {
    if (!input.trim())
        return [];
    // Nothing is expanded, and a `$VAR` left as text would silently mean something else than in a
    // shell: refuse it instead (workflows have ${{ env.VAR }} for that).
    const variable = /\$(\{?[A-Za-z_]\w*\}?)/.exec(input);
    if (variable)
        throw new Error(`does not expand variables (found ${quoteGiven(variable[0])}; it is never run through a shell): write the value, or use \${{ env.NAME }} in the workflow`);
    // Any `$` left (e.g. `$1`) stays literal text.
    const tokens = shellQuoteExports.parse(input, (name) => `$${name}`);
    const args = [];
    for (const token of tokens) {
        if (typeof token === 'string') {
            args.push(...expandShortCluster(token));
            continue;
        }
        const what = 'op' in token ? (token.op === 'glob' ? `glob ${token.pattern}` : token.op) : 'a comment';
        throw new Error(`shell syntax is not supported (found ${quoteGiven(what)}); give plain worker options like --pool=solo --concurrency=2`);
    }
    for (const arg of args) {
        if (arg === '-D' || arg === '--detach')
            throw new Error('--detach (-D) is not supported: the action must own the worker process to stop it');
        if (/[\u0000-\u001f]/.test(arg))
            throw new Error(`contains a control character in ${quoteGiven(arg)}`);
    }
    return args;
}
/**
 * Splits a cluster of short options the way Celery's option parser (click) reads it:
 * `-ED` is `-E -D`, `-ElINFO` is `-E -l INFO`; a value-taking option ends the cluster.
 */
function expandShortCluster(arg) {
    if (!/^-[A-Za-z]{2,}/.test(arg))
        return [arg];
    const out = [];
    for (let i = 1; i < arg.length; i++) {
        const c = arg[i];
        out.push(`-${c}`);
        if (SHORT_WITH_VALUE.has(c)) {
            if (i + 1 < arg.length)
                out.push(arg.slice(i + 1));
            break;
        }
    }
    return out;
}
const QUEUES = { short: '-Q', long: '--queues' };
const INCLUDE = { short: '-I', long: '--include' };
const HOSTNAME = { short: '-n', long: '--hostname' };
const LOGLEVEL = { short: '-l', long: '--loglevel' };
/** Removes every occurrence of an option from args and returns the values it had. */
function takeOption(args, opt) {
    const rest = [];
    const values = [];
    for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (a === opt.short || a === opt.long) {
            const v = args[i + 1];
            if (v !== undefined)
                values.push(v);
            i++;
        }
        else if (a.startsWith(`${opt.long}=`))
            values.push(a.slice(opt.long.length + 1));
        else if (a.startsWith(opt.short) && a.length > 2 && !a.startsWith('--'))
            values.push(a.slice(2));
        else
            rest.push(a);
    }
    return { rest, values };
}
const commaList = (values) => values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
function buildWorkerCommand(userArgs, run) {
    let args = [...userArgs];
    const queues = takeOption(args, QUEUES);
    args = queues.rest;
    const includes = takeOption(args, INCLUDE);
    args = includes.rest;
    const hostname = takeOption(args, HOSTNAME);
    args = hostname.rest;
    const loglevel = takeOption(args, LOGLEVEL);
    args = loglevel.rest;
    const allQueues = [...commaList(queues.values), run.queue];
    const allIncludes = [...new Set([...commaList(includes.values), ...run.includes])];
    // INFO is where Celery prints `ready.`; a user's explicit level is respected.
    const level = loglevel.values.at(-1) ?? 'INFO';
    const argv = [...args, '--hostname', run.nodeName, '--queues', allQueues.join(','), '--loglevel', level];
    if (allIncludes.length)
        argv.push('--include', allIncludes.join(','));
    return { argv, queues: allQueues, loglevel: level, replacedHostname: hostname.values.at(-1), userQueues: queues.values.length > 0 };
}

// One place where raw inputs (strings, from the runner's INPUT_* variables or the CLI's flags)
// become one typed, validated Settings object. Every rejection is one line that names the input,
// says what was expected and shows what was given.
/** The gate a wrong input belongs to: it fails with the input's error; the others are skipped. */
const GATE_OF_INPUT = {
    [Inputs.App]: 'import',
    [Inputs.WorkingDirectory]: 'import',
    [Inputs.Python]: 'import',
    [Inputs.WorkerArgs]: 'runtime',
    [Inputs.WorkerEnv]: 'import',
    [Inputs.PingTask]: 'runtime',
    [Inputs.Timeout]: 'runtime',
    [Inputs.DatabaseUrl]: 'db-access',
    [Inputs.ExpectedRole]: 'rls-role',
    [Inputs.AllowedRoles]: 'rls-role',
    [Inputs.TenantTables]: 'rls-role',
    [Inputs.FailOn]: 'ci',
    [Inputs.Junit]: 'ci',
    [Inputs.TaxonomyRules]: 'ci',
    [Inputs.Gates]: 'ci',
    [Inputs.ExpectedTasks]: 'tasks',
    [Inputs.LogFields]: 'logs',
    [Inputs.DlqTable]: 'dlq',
    [Inputs.DlqProbeTask]: 'dlq',
    [Inputs.KeepWorker]: 'runtime',
    [Inputs.GithubToken]: 'ci',
    [Inputs.PrComment]: 'ci',
    [Inputs.CheckRun]: 'ci'
};
class InputError extends Error {
    input;
    constructor(input, message) {
        super(`Input "${input}": ${message}`);
        this.input = input;
        this.name = 'InputError';
    }
}
/**
 * Turns a parse function that throws plain Errors into a zod string field. An input that is empty
 * (or only whitespace) gets its default from the inputs table, as the runner would from action.yml.
 */
function field(input, parse) {
    return string()
        .optional()
        .transform((raw, ctx) => {
        try {
            return parse((raw ?? '').trim() || INPUTS[input].default);
        }
        catch (e) {
            ctx.addIssue({ code: 'custom', message: e.message });
            return NEVER;
        }
    });
}
// `module`, `package.module`, or `package.module:attribute`, as `celery -A` accepts them.
const PYTHON_PATH = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*)?$/;
const TASK_NAME = /^[A-Za-z_][\w.:-]*$/;
const MAX_TIMEOUT_SECONDS = 3600;
const parseApp = (v) => {
    if (!v)
        throw new Error('is required: the Celery app as given to `celery -A`, e.g. app.celery_app');
    if (!PYTHON_PATH.test(v))
        throw new Error(`expected a Python module path like app.celery_app or pkg.module:app, got ${quoteGiven(v)}`);
    return v;
};
const parseWorkingDirectory = (v) => {
    const dir = path.resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), v);
    let isDir = false;
    try {
        isDir = statSync(dir).isDirectory();
    }
    catch {
        throw new Error(`expected an existing directory, got ${quoteGiven(v)} (${dir} does not exist)`);
    }
    if (!isDir)
        throw new Error(`expected a directory, got ${quoteGiven(v)} (${dir} is a file)`);
    return dir;
};
const parsePython = (v) => {
    if (/[\u0000-\u001f]/.test(v))
        throw new Error(`expected a Python interpreter name or path, got ${quoteGiven(v)}`);
    return v;
};
const parseDatabaseUrl = (v) => {
    if (!v)
        return {};
    const parts = parseDsn(v);
    const scheme = parts?.scheme ?? /^([\w+.-]+):\/\//.exec(v)?.[1]?.toLowerCase();
    // node-postgres also understands the libpq spelling `postgres://`.
    if (!parts || !(isPostgresScheme(parts.scheme) || parts.scheme === 'postgres'))
        throw new Error(`expected a PostgreSQL DSN like postgresql://user:password@host:5432/db, got ${scheme ? `a ${scheme}:// URL` : 'something that is not a URL'}`);
    return { url: v, parts };
};
const parseRole = (v) => {
    if (Buffer.byteLength(v) > 63 || /[\u0000]/.test(v))
        throw new Error(`expected a PostgreSQL role name (at most 63 bytes), got ${quoteGiven(v)}`);
    return v;
};
/**
 * Role names, comma or newline separated (a role name may contain spaces, so spaces do not
 * separate). Each is checked like expected-role; duplicates are dropped.
 */
const parseAllowedRoles = (v) => {
    const names = v
        .split(/[\n,]/)
        .map((n) => n.trim())
        .filter(Boolean);
    for (const n of names)
        if (Buffer.byteLength(n) > 63 || /[\u0000-\u001f]/.test(n))
            throw new Error(`expected PostgreSQL role names (at most 63 bytes each), comma or newline separated, got ${quoteGiven(n)}`);
    return [...new Set(names)];
};
const parsePingTask = (v) => {
    if (!TASK_NAME.test(v))
        throw new Error(`expected a task name like celery.ping or app.tasks.ping, got ${quoteGiven(v)}`);
    return v;
};
const parseTimeout = (v) => {
    const n = /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
    if (!Number.isFinite(n) || n < 1 || n > MAX_TIMEOUT_SECONDS)
        throw new Error(`expected a number of seconds from 1 to ${MAX_TIMEOUT_SECONDS}, got ${quoteGiven(v)}`);
    return n;
};
const parseFailOn = (v) => {
    const mode = v.toLowerCase();
    if (mode !== 'foundation' && mode !== 'any' && mode !== 'never')
        throw new Error(`expected one of foundation, any, never; got ${quoteGiven(v)}`);
    return mode;
};
/** Globs, one per line or separated by commas (as most actions take path lists). */
const parseJunit = (v) => {
    if (!v)
        return undefined;
    const patterns = v
        .split(/[\n,]/)
        .map((p) => p.trim())
        .filter(Boolean);
    for (const p of patterns)
        if (/[\u0000-\u001f]/.test(p))
            throw new Error(`expected file globs like reports/junit-*.xml, got ${quoteGiven(p)}`);
    return patterns.length ? patterns : undefined;
};
/** A list, one item per line or separated by commas or spaces. */
const listOf = (v) => v
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);
const parseGates = (v) => {
    if (!v)
        return [...GATE_IDS];
    const wanted = listOf(v);
    const unknown = wanted.filter((g) => !GATE_IDS.includes(g));
    if (unknown.length)
        throw new Error(`expected gate ids among ${GATE_IDS.join(', ')}; got ${quoteGiven(unknown.join(', '))}`);
    // In matrix order, whatever order they were given in.
    return GATE_IDS.filter((g) => wanted.includes(g));
};
const parseExpectedTasks = (v) => {
    const names = listOf(v);
    for (const n of names)
        if (!TASK_NAME.test(n))
            throw new Error(`expected task names like app.tasks.ping, got ${quoteGiven(n)}`);
    return names;
};
const parseLogFields = (v) => {
    const fields = listOf(v);
    for (const f of fields)
        if (!/^[\w.@-]+$/.test(f))
            throw new Error(`expected JSON field names like level,logger,message; got ${quoteGiven(f)}`);
    return fields;
};
const parseOptionalTable = (v) => {
    if (!v)
        return undefined;
    if (/[\u0000-\u001f]/.test(v) || v.length > 200)
        throw new Error(`expected a table name like worker_failed_jobs, got ${quoteGiven(v)}`);
    return v;
};
const parseOptionalTask = (v) => (v ? parsePingTask(v) : undefined);
/** YAML 1.2's booleans, as @actions/core's getBooleanInput reads them. */
const parseBoolean = (v) => {
    if (!v || ['false', 'False', 'FALSE'].includes(v))
        return false;
    if (['true', 'True', 'TRUE'].includes(v))
        return true;
    throw new Error(`expected true or false, got ${quoteGiven(v)}`);
};
// The file is read by loadSettings, once every input is well-formed.
const parseTaxonomyRules = (v) => v || undefined;
/**
 * Splits a list on commas and newlines, but not inside double-quoted identifiers. With an unclosed
 * quote there is no telling where a name ends: the entry it is in ends at its first comma or
 * newline, and the rest is split again. That entry is then reported as not a table name (a
 * finding of rls-role), while the others are still used.
 */
function splitIdentifierList(v) {
    const out = [];
    let current = '';
    let quoted = false;
    for (const ch of v) {
        if (ch === '"')
            quoted = !quoted;
        if (!quoted && (ch === ',' || ch === '\n')) {
            if (current.trim())
                out.push(current.trim());
            current = '';
            continue;
        }
        current += ch;
    }
    const end = quoted ? current.search(/[,\n]/) : -1;
    if (end >= 0) {
        if (current.slice(0, end).trim())
            out.push(current.slice(0, end).trim());
        return [...out, ...splitIdentifierList(current.slice(end + 1))];
    }
    if (current.trim())
        out.push(current.trim());
    return out;
}
const parseTenantTables = (v) => {
    if (!v)
        return undefined;
    const names = splitIdentifierList(v);
    for (const name of names) {
        if (/[\u0000-\u001f]/.test(name) || name.length > 200)
            throw new Error(`expected table names like invoices or public."Weird-Table", got ${quoteGiven(name)}`);
    }
    return names;
};
/** Never echoed: a token is a secret, so the error says what is wrong without showing it. */
const parseToken = (v) => {
    if (!v)
        return undefined;
    if (/[\s\u0000-\u001f]/.test(v))
        throw new Error('expected a GitHub token (one word, no spaces or line breaks), got a value with whitespace (not shown)');
    return v;
};
const parseWorkerArgsInput = (v) => splitWorkerArgs(v);
/** Variable names, comma or newline separated: names only, never `NAME=value`. */
const parseWorkerEnv = (v) => {
    const names = v
        .split(/[\n,]/)
        .map((n) => n.trim())
        .filter(Boolean);
    for (const n of names)
        if (!ENV_NAME.test(n))
            throw new Error(`expected environment variable names like GITHUB_TOKEN or APP_SECRET (comma or newline separated), got ${n.includes('=') ? 'a NAME=value pair (value not shown); give the name only' : quoteGiven(n)}`);
    return [...new Set(names)];
};
const SettingsSchema = object({
    [Inputs.App]: field(Inputs.App, parseApp),
    [Inputs.WorkingDirectory]: field(Inputs.WorkingDirectory, parseWorkingDirectory),
    [Inputs.Python]: field(Inputs.Python, parsePython),
    [Inputs.WorkerArgs]: field(Inputs.WorkerArgs, parseWorkerArgsInput),
    [Inputs.WorkerEnv]: field(Inputs.WorkerEnv, parseWorkerEnv),
    [Inputs.DatabaseUrl]: field(Inputs.DatabaseUrl, parseDatabaseUrl),
    [Inputs.ExpectedRole]: field(Inputs.ExpectedRole, parseRole),
    [Inputs.AllowedRoles]: field(Inputs.AllowedRoles, parseAllowedRoles),
    [Inputs.PingTask]: field(Inputs.PingTask, parsePingTask),
    [Inputs.Timeout]: field(Inputs.Timeout, parseTimeout),
    [Inputs.TenantTables]: field(Inputs.TenantTables, parseTenantTables),
    [Inputs.FailOn]: field(Inputs.FailOn, parseFailOn),
    [Inputs.Junit]: field(Inputs.Junit, parseJunit),
    [Inputs.TaxonomyRules]: field(Inputs.TaxonomyRules, parseTaxonomyRules),
    [Inputs.Gates]: field(Inputs.Gates, parseGates),
    [Inputs.ExpectedTasks]: field(Inputs.ExpectedTasks, parseExpectedTasks),
    [Inputs.LogFields]: field(Inputs.LogFields, parseLogFields),
    [Inputs.DlqTable]: field(Inputs.DlqTable, parseOptionalTable),
    [Inputs.DlqProbeTask]: field(Inputs.DlqProbeTask, parseOptionalTask),
    [Inputs.KeepWorker]: field(Inputs.KeepWorker, parseBoolean),
    [Inputs.GithubToken]: field(Inputs.GithubToken, parseToken),
    [Inputs.PrComment]: field(Inputs.PrComment, parseBoolean),
    [Inputs.CheckRun]: field(Inputs.CheckRun, parseBoolean)
});
/**
 * The settings of a run: every input validated, then the files they name read. Throws InputError
 * for the first input (in contract order) that is wrong; a rules file that cannot be read or is
 * not valid is reported once every input is well-formed.
 */
async function loadSettings(raw) {
    const settings = parseSettings(raw);
    if (!settings.rulesFile)
        return settings;
    // On demand: the YAML parser is a third of what a run would otherwise load at start.
    const { loadRulesFile } = await import('./shared-rules-file.js');
    try {
        return { ...settings, userRules: loadRulesFile(path.resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), settings.rulesFile)) };
    }
    catch (e) {
        throw new InputError(Inputs.TaxonomyRules, `expected a YAML or JSON rules file: ${e.message}`);
    }
}
/** Validates raw inputs, reading no file; throws InputError for the first input (in contract order) that is wrong. */
function parseSettings(raw) {
    const result = SettingsSchema.safeParse(raw);
    if (!result.success) {
        const issue = result.error.issues[0];
        const input = (issue?.path[0] ?? Inputs.App);
        throw new InputError(input, issue?.message ?? 'is invalid');
    }
    const s = result.data;
    // dlq needs a dead-letter table to check, so it is on by default only when dlq-table is set.
    // Asked for by name without one, it runs and skips, saying how to turn it on.
    const gates = raw[Inputs.Gates]?.trim() || s[Inputs.DlqTable] ? s[Inputs.Gates] : s[Inputs.Gates].filter((g) => g !== 'dlq');
    return {
        app: s[Inputs.App],
        workingDirectory: s[Inputs.WorkingDirectory],
        python: s[Inputs.Python],
        workerArgs: s[Inputs.WorkerArgs],
        workerEnv: s[Inputs.WorkerEnv],
        databaseUrl: s[Inputs.DatabaseUrl].url,
        databaseUrlParts: s[Inputs.DatabaseUrl].parts,
        expectedRole: s[Inputs.ExpectedRole],
        allowedRoles: s[Inputs.AllowedRoles],
        pingTask: s[Inputs.PingTask],
        timeoutSeconds: s[Inputs.Timeout],
        tenantTables: s[Inputs.TenantTables],
        failOn: s[Inputs.FailOn],
        junit: s[Inputs.Junit],
        rulesFile: s[Inputs.TaxonomyRules],
        userRules: [],
        gates,
        expectedTasks: s[Inputs.ExpectedTasks],
        logFields: s[Inputs.LogFields],
        dlqTable: s[Inputs.DlqTable],
        dlqProbeTask: s[Inputs.DlqProbeTask],
        keepWorker: s[Inputs.KeepWorker],
        githubToken: s[Inputs.GithubToken],
        prComment: s[Inputs.PrComment],
        checkRun: s[Inputs.CheckRun]
    };
}

// Is the app's data plane PostgreSQL? Decided from what the imported app configures (reported by
// bootstrap.py), never from environment variables or guesses. Shared by the broker-config gate
// and by the run, which boots the worker only when there is a Postgres data plane to ping through.
// Which transport carries the messages (kombu's sqla tables, PGMQ) is the plane's kind: the run
// and the gates ask that plane (planes/) what to do, rather than knowing transports.
const KNOWN = {
    redis: 'Redis',
    rediss: 'Redis (TLS)',
    sentinel: 'Redis Sentinel',
    amqp: 'RabbitMQ/AMQP',
    amqps: 'RabbitMQ/AMQP (TLS)',
    pyamqp: 'RabbitMQ/AMQP',
    librabbitmq: 'RabbitMQ/AMQP',
    sqs: 'Amazon SQS',
    memory: 'in-memory (not shared between processes)',
    filesystem: 'filesystem',
    rpc: 'RPC (replies over the AMQP broker)',
    disabled: 'disabled (no result backend)',
    cache: 'cache (memcached/in-memory)',
    mongodb: 'MongoDB',
    'django-db': 'django-db (Django ORM)',
    'django-cache': 'django-cache',
    file: 'filesystem',
    sqlite: 'SQLite',
    mysql: 'MySQL',
    mssql: 'Microsoft SQL Server',
    oracle: 'Oracle'
};
function describeScheme(scheme) {
    const base = scheme.split('+')[0] ?? scheme;
    return KNOWN[base] ? `${scheme}:// (${KNOWN[base]})` : `${scheme}://`;
}
function endpoint(url) {
    const u = url ?? '';
    return { url: u, parts: parseDsn(u), shown: u ? redactDsn(u) : '(not set)' };
}
const POSTGRES_ALIAS_HINT = 'SQLAlchemy 1.4+ rejects the postgres:// alias: write postgresql://';
/**
 * `names`: the node name and queue the run gives the worker, which a plane with name limits (PGMQ)
 * checks before the worker declares them.
 */
function classifyDataPlane(probe, names) {
    const problems = [];
    const notes = [];
    const broker = endpoint(probe.broker.url);
    const backend = endpoint(probe.backend.url);
    const bp = broker.parts;
    const plane = bp ? planeFor(bp) : undefined;
    if (!bp)
        problems.push(`broker is not a URL: ${broker.shown}`);
    // kombu's PGMQ transport is PostgreSQL too: what the worker would die of on it, if anything.
    else if (plane?.kind === 'pgmq')
        problems.push(...plane.probeProblems(probe, names));
    else if (!bp.prefix && (isPostgresScheme(bp.scheme) || bp.scheme === 'postgres'))
        problems.push(`broker is ${bp.scheme}:// without kombu's sqla+ prefix: write sqla+postgresql:// to use its SQLAlchemy transport`);
    else if (bp.prefix !== 'sqla' && bp.prefix !== 'sqlalchemy')
        problems.push(`broker is ${describeScheme(bp.prefix ? `${bp.prefix}+${bp.scheme}` : bp.scheme)}, not PostgreSQL (sqla+postgresql:// or pgmq://)`);
    else if (!isPostgresScheme(bp.scheme))
        problems.push(bp.scheme === 'postgres'
            ? `broker uses sqla+postgres://: ${POSTGRES_ALIAS_HINT}`
            : `broker is SQLAlchemy on ${describeScheme(bp.scheme)}, not PostgreSQL (sqla+postgresql:// or pgmq://)`);
    if (probe.broker.urls && probe.broker.urls.length > 1)
        notes.push(`${probe.broker.urls.length} failover broker URLs configured; the first is checked`);
    const rp = backend.parts;
    const scheme = probe.backend.scheme ?? '';
    if (!probe.backend.url || scheme === 'disabled')
        problems.push('result backend is not configured (results are disabled), not PostgreSQL (db+postgresql://)');
    else if (!rp)
        problems.push(`result backend is ${describeScheme(scheme)}, not PostgreSQL (db+postgresql://)`);
    else if (!rp.prefix && (isPostgresScheme(rp.scheme) || rp.scheme === 'postgres'))
        problems.push(`result backend is ${rp.scheme}:// without Celery's db+ prefix: write db+postgresql:// to use its database backend`);
    else if (rp.prefix !== 'db')
        problems.push(`result backend is ${describeScheme(rp.prefix ? `${rp.prefix}+${rp.scheme}` : rp.scheme)}, not PostgreSQL (db+postgresql://)`);
    else if (!isPostgresScheme(rp.scheme))
        problems.push(rp.scheme === 'postgres'
            ? `result backend uses db+postgres://: ${POSTGRES_ALIAS_HINT}`
            : `result backend is SQLAlchemy on ${describeScheme(rp.scheme)}, not PostgreSQL (db+postgresql://)`);
    else if (probe.backend.backend_error)
        problems.push(`result backend cannot load: ${probe.backend.backend_error}`);
    // Only for a PostgreSQL data plane: what the worker would die of at boot with these packages.
    if (!problems.length)
        problems.push(...driftProblems(plane?.kind === 'pgmq' ? withoutBrokerDriver(probe) : probe));
    if (problems.length || !bp || !rp)
        return { ok: false, problems, brokerShown: broker.shown, backendShown: backend.shown };
    const resolved = plane ? plane.resolve(bp, probe) : { parts: bp, notes: [] };
    return {
        ok: true,
        notes: [...notes, ...resolved.notes],
        plane: {
            kind: plane?.kind ?? 'sqla',
            broker: { url: broker.url, parts: resolved.parts, redacted: broker.shown },
            backend: { url: backend.url, parts: rp, redacted: backend.shown }
        }
    };
}
/** PGMQ connects with psycopg through the pgmq package, not through a SQLAlchemy driver. */
function withoutBrokerDriver(probe) {
    const drift = probe.drift;
    if (!drift?.drivers)
        return probe;
    return { ...probe, drift: { ...drift, drivers: { ...drift.drivers, broker: null } } };
}

// A small, bounded reader for the pickles a Celery result backend stores (protocol 2 to 5: what
// SQLAlchemy's PickleType writes for Celery 5.2's `result` column). Anyone with INSERT on that
// table can write the row the action reads, so the bytes are hostile until proven otherwise.
//
// Why our own reader and not a general one (pickleparser was used before): a general reader
// follows whatever the bytes say — a negative length made it loop and allocate until the process
// died, and it happily builds structures whose rendering never ends. This one knows only the
// opcodes that plain data needs, never calls anything (a class reference stays a name, a call
// stays an inert record), and stops with a reason at the first of: an unknown opcode, a length
// past the end of the input, or one of LIMITS. Every opcode costs O(1) apart from the ones that
// pop a marked run of items, and each item is popped once: time and memory are linear in the
// input, which the caller already capped.
/** A Python object the pickle would have built by calling something: kept as data, never called. */
class PyObject {
    type;
    args;
    state;
    constructor(
    /** `module.qualname` of what the pickle asks to call (the class, for an exception). */
    type, args, 
    /** What BUILD would have set on it (usually a dict of attributes). */
    state) {
        this.type = type;
        this.args = args;
        this.state = state;
    }
}
/** A class or function reference (GLOBAL / STACK_GLOBAL) that was never resolved. */
class PyGlobal {
    name;
    constructor(name) {
        this.name = name;
    }
}
class UndecodablePickle extends Error {
}
const PICKLE_LIMITS = {
    /** Nested MARKs (a tuple in a list in a dict …, as the pickle builds them). */
    maxDepth: 100,
    /** Values pushed: every string, number, container and reference counts one. */
    maxObjects: 100_000,
    /** Memo entries. */
    maxMemo: 100_000,
    /** Bytes of all strings and byte strings together. */
    maxStringBytes: 1024 * 1024,
    /** Bytes of one integer (LONG1/LONG4): anything longer is not a result worth printing. */
    maxIntBytes: 64,
    /** Characters the value would take written out in full (shared parts counted each time). */
    maxExpanded: 1024 * 1024
};
function readPickle(raw) {
    const value = new Reader(raw).run();
    checkShape(value);
    return value;
}
/**
 * A pickle refers to a value it already built by memo index, so a few hundred bytes can stand
 * for a list that holds itself, or one list shared 2^44 times ([a, a] nested 44 levels deep).
 * Celery's own results are plain trees; such a value would hang or exhaust whoever expands it,
 * so it is refused here, with what it is. One pass over the distinct containers (each measured
 * once, memoised), recursion bounded by maxDepth.
 */
function checkShape(root) {
    const sizes = new Map();
    const open = new Set();
    const measure = (value, depth) => {
        if (typeof value === 'string')
            return value.length + 2;
        if (Buffer.isBuffer(value))
            return value.length + 3;
        if (value === null || typeof value !== 'object')
            return 1;
        const known = sizes.get(value);
        if (known !== undefined)
            return known;
        if (open.has(value))
            throw new UndecodablePickle('the value contains itself');
        if (depth >= PICKLE_LIMITS.maxDepth)
            throw new UndecodablePickle(`the value is nested deeper than ${PICKLE_LIMITS.maxDepth} levels`);
        open.add(value);
        let size = 2;
        const children = value instanceof PyObject ? [...value.args, value.state] : Array.isArray(value) ? value : Object.values(value);
        for (const child of children) {
            size += measure(child, depth + 1) + 1;
            if (size > PICKLE_LIMITS.maxExpanded)
                throw new UndecodablePickle(`the value expands to more than ${PICKLE_LIMITS.maxExpanded} characters (parts shared by reference)`);
        }
        if (!(value instanceof PyObject) && !Array.isArray(value))
            size += Object.keys(value).reduce((n, k) => n + k.length + 3, 0);
        open.delete(value);
        sizes.set(value, size);
        return size;
    };
    measure(root, 0);
}
class Reader {
    raw;
    pos = 0;
    stack = [];
    /** Stack lengths at each open MARK. */
    marks = [];
    memo = new Map();
    objects = 0;
    stringBytes = 0;
    view;
    constructor(raw) {
        this.raw = raw;
        this.view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    }
    run() {
        if (this.raw[0] !== 0x80)
            throw new UndecodablePickle('not a pickle of protocol 2 or later');
        while (this.pos < this.raw.length) {
            const at = this.pos;
            const op = this.u8();
            if (op === 0x2e /* STOP */) {
                if (this.stack.length !== 1 || this.marks.length)
                    throw new UndecodablePickle(`STOP at byte ${at} with ${this.stack.length} values on the stack`);
                if (this.pos !== this.raw.length)
                    throw new UndecodablePickle(`${this.raw.length - this.pos} bytes after STOP`);
                return this.stack[0];
            }
            this.step(op, at);
        }
        throw new UndecodablePickle('cut off: no STOP opcode');
    }
    step(op, at) {
        switch (op) {
            case 0x80: {
                const proto = this.u8();
                if (at !== 0 || proto < 2 || proto > 5)
                    throw new UndecodablePickle(`pickle protocol ${proto} is not one Celery writes (2 to 5)`);
                return;
            }
            case 0x95: // FRAME: a length hint for buffered readers; only its bounds matter here
                this.need(Number(this.u64()));
                return;
            case 0x4e:
                return this.push(null); // NONE
            case 0x88:
                return this.push(true); // NEWTRUE
            case 0x89:
                return this.push(false); // NEWFALSE
            case 0x4b:
                return this.push(this.u8()); // BININT1
            case 0x4d:
                return this.push(this.u16()); // BININT2
            case 0x4a:
                return this.push(this.i32()); // BININT
            case 0x8a:
                return this.push(this.long(this.u8())); // LONG1
            case 0x8b:
                return this.push(this.long(this.u32())); // LONG4
            case 0x47: {
                // BINFLOAT
                this.need(8);
                const value = this.view.getFloat64(this.pos, false);
                this.pos += 8;
                return this.push(value);
            }
            case 0x8c:
                return this.push(this.text(this.u8())); // SHORT_BINUNICODE
            case 0x58:
                return this.push(this.text(this.u32())); // BINUNICODE
            case 0x8d:
                return this.push(this.text(this.u64())); // BINUNICODE8
            case 0x55:
                return this.push(this.latin1(this.u8())); // SHORT_BINSTRING (Python 2 str)
            case 0x54:
                return this.push(this.latin1(this.u32())); // BINSTRING
            case 0x43:
                return this.push(this.bytes(this.u8())); // SHORT_BINBYTES
            case 0x42:
                return this.push(this.bytes(this.u32())); // BINBYTES
            case 0x8e: // BINBYTES8
            case 0x96: // BYTEARRAY8
                return this.push(this.bytes(this.u64()));
            case 0x29:
                return this.push([]); // EMPTY_TUPLE
            case 0x85:
                return this.push(this.pop(1)); // TUPLE1
            case 0x86:
                return this.push(this.pop(2)); // TUPLE2
            case 0x87:
                return this.push(this.pop(3)); // TUPLE3
            case 0x5d:
                return this.push([]); // EMPTY_LIST
            case 0x7d:
                return this.push({}); // EMPTY_DICT
            case 0x8f:
                return this.push([]); // EMPTY_SET (a set is shown as a list)
            case 0x28: // MARK
                if (this.marks.length >= PICKLE_LIMITS.maxDepth)
                    throw new UndecodablePickle(`nested deeper than ${PICKLE_LIMITS.maxDepth} levels`);
                this.marks.push(this.stack.length);
                return;
            case 0x74: // TUPLE
            case 0x6c: // LIST
            case 0x91: // FROZENSET
                return this.push(this.popMark());
            case 0x64:
                return this.push(toDict({}, this.popMark())); // DICT
            case 0x61: {
                // APPEND
                const item = this.pop(1)[0];
                this.listAt(op).push(item);
                return;
            }
            case 0x65: // APPENDS
            case 0x90: {
                // ADDITEMS
                const items = this.popMark();
                const list = this.listAt(op);
                for (const item of items)
                    list.push(item);
                return;
            }
            case 0x73: {
                // SETITEM
                const pair = this.pop(2);
                toDict(this.dictAt(), pair);
                return;
            }
            case 0x75: {
                // SETITEMS
                const items = this.popMark();
                toDict(this.dictAt(), items);
                return;
            }
            case 0x94:
                return this.remember(this.memo.size); // MEMOIZE
            case 0x71:
                return this.remember(this.u8()); // BINPUT
            case 0x72:
                return this.remember(this.u32()); // LONG_BINPUT
            case 0x68:
                return this.recall(this.u8()); // BINGET
            case 0x6a:
                return this.recall(this.u32()); // LONG_BINGET
            case 0x30: // POP
                if (this.stack.length > (this.marks.at(-1) ?? 0))
                    this.stack.pop();
                else
                    this.popMark();
                return;
            case 0x31:
                this.popMark();
                return; // POP_MARK
            case 0x32:
                return this.push(this.top()); // DUP
            case 0x63: {
                // GLOBAL: "module\nname\n"
                const module = this.line();
                return this.push(new PyGlobal(`${module}.${this.line()}`));
            }
            case 0x93: {
                // STACK_GLOBAL
                const [module, name] = this.pop(2);
                if (typeof module !== 'string' || typeof name !== 'string')
                    throw new UndecodablePickle(`STACK_GLOBAL at byte ${at} without two names`);
                return this.push(new PyGlobal(`${module}.${name}`));
            }
            case 0x52: // REDUCE: callable(*args)
            case 0x81: {
                // NEWOBJ: cls.__new__(cls, *args)
                const [callable, args] = this.pop(2);
                return this.push(new PyObject(nameOf(callable), Array.isArray(args) ? args : [args]));
            }
            case 0x92: {
                // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
                const [cls, args, kwargs] = this.pop(3);
                return this.push(new PyObject(nameOf(cls), Array.isArray(args) ? [...args, kwargs] : [args, kwargs]));
            }
            case 0x62: {
                // BUILD: obj.__setstate__(state)
                const state = this.pop(1)[0];
                const target = this.top();
                if (target instanceof PyObject)
                    target.state = state;
                return;
            }
            default:
                throw new UndecodablePickle(`opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at} is not one plain result data needs`);
        }
    }
    push(value) {
        if (++this.objects > PICKLE_LIMITS.maxObjects)
            throw new UndecodablePickle(`more than ${PICKLE_LIMITS.maxObjects} values`);
        this.stack.push(value);
    }
    /** The top `n` values, in order, from above the innermost MARK. */
    pop(n) {
        const floor = this.marks.at(-1) ?? 0;
        if (this.stack.length - floor < n)
            throw new UndecodablePickle(`stack underflow at byte ${this.pos - 1}`);
        return this.stack.splice(this.stack.length - n, n);
    }
    popMark() {
        const floor = this.marks.pop();
        if (floor === undefined)
            throw new UndecodablePickle(`no MARK to pop at byte ${this.pos - 1}`);
        return this.stack.splice(floor);
    }
    top() {
        if (this.stack.length <= (this.marks.at(-1) ?? 0))
            throw new UndecodablePickle(`empty stack at byte ${this.pos - 1}`);
        return this.stack[this.stack.length - 1];
    }
    listAt(op) {
        const list = this.top();
        if (!Array.isArray(list))
            throw new UndecodablePickle(`opcode 0x${op.toString(16)} at byte ${this.pos - 1} needs a list`);
        return list;
    }
    dictAt() {
        const dict = this.top();
        if (!isDict(dict))
            throw new UndecodablePickle(`SETITEM(S) at byte ${this.pos - 1} needs a dict`);
        return dict;
    }
    remember(index) {
        if (this.memo.size >= PICKLE_LIMITS.maxMemo && !this.memo.has(index))
            throw new UndecodablePickle(`more than ${PICKLE_LIMITS.maxMemo} memo entries`);
        this.memo.set(index, this.top());
    }
    recall(index) {
        if (!this.memo.has(index))
            throw new UndecodablePickle(`memo entry ${index} was never stored`);
        this.push(this.memo.get(index));
    }
    need(n) {
        if (!Number.isSafeInteger(n) || n < 0 || n > this.raw.length - this.pos)
            throw new UndecodablePickle(`a length of ${n} at byte ${this.pos} runs past the end of the ${this.raw.length} bytes`);
    }
    u8() {
        this.need(1);
        return this.raw[this.pos++];
    }
    u16() {
        this.need(2);
        const v = this.view.getUint16(this.pos, true);
        this.pos += 2;
        return v;
    }
    u32() {
        this.need(4);
        const v = this.view.getUint32(this.pos, true);
        this.pos += 4;
        return v;
    }
    i32() {
        this.need(4);
        const v = this.view.getInt32(this.pos, true);
        this.pos += 4;
        return v;
    }
    u64() {
        this.need(8);
        const v = this.view.getBigUint64(this.pos, true);
        this.pos += 8;
        // Anything past 2^53 is past the end of any input we accept; need() says so.
        return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
    }
    slice(n) {
        this.need(n);
        this.stringBytes += n;
        if (this.stringBytes > PICKLE_LIMITS.maxStringBytes)
            throw new UndecodablePickle(`strings over ${PICKLE_LIMITS.maxStringBytes} bytes in all`);
        const bytes = this.raw.subarray(this.pos, this.pos + n);
        this.pos += n;
        return bytes;
    }
    text(n) {
        return Buffer.from(this.slice(n)).toString('utf8');
    }
    latin1(n) {
        return Buffer.from(this.slice(n)).toString('latin1');
    }
    bytes(n) {
        return Buffer.from(this.slice(n));
    }
    line() {
        const end = this.raw.indexOf(0x0a, this.pos);
        if (end < 0 || end - this.pos > 256)
            throw new UndecodablePickle(`GLOBAL at byte ${this.pos - 1} without a short name line`);
        return this.latin1(end - this.pos + 1).slice(0, -1);
    }
    /** Little-endian two's complement, as Python's LONG1/LONG4 store it. */
    long(n) {
        if (n > PICKLE_LIMITS.maxIntBytes)
            throw new UndecodablePickle(`an integer of ${n} bytes (more than ${PICKLE_LIMITS.maxIntBytes})`);
        this.need(n);
        let value = 0n;
        for (let i = n - 1; i >= 0; i--)
            value = (value << 8n) | BigInt(this.raw[this.pos + i]);
        if (n > 0 && (this.raw[this.pos + n - 1] & 0x80) !== 0)
            value -= 1n << BigInt(8 * n);
        this.pos += n;
        return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
    }
}
function isDict(value) {
    return (typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        !(value instanceof PyObject) &&
        !(value instanceof PyGlobal) &&
        !Buffer.isBuffer(value));
}
/** Sets key/value pairs as own properties (a key `__proto__` stays data, never a prototype). */
function toDict(dict, items) {
    if (items.length % 2 !== 0)
        throw new UndecodablePickle('a dict with an odd number of keys and values');
    for (let i = 0; i < items.length; i += 2) {
        const key = items[i];
        const name = typeof key === 'string'
            ? key
            : typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean' || key === null
                ? String(key)
                : `<key ${i / 2}>`;
        Object.defineProperty(dict, name, { value: items[i + 1], enumerable: true, writable: true, configurable: true });
    }
    return dict;
}
function nameOf(callable) {
    return callable instanceof PyGlobal ? callable.name : '?';
}

// The `result` column of celery_taskmeta is a pickle on Celery 5.2 (SQLAlchemy PickleType) and
// serializer-encoded bytes (JSON by default) on newer Celery — both seen on real workers. We
// decode either for the evidence line, never executing anything.
//
// The row is outside input: anyone with INSERT on the table can write the one the action reads.
// So every step is bounded: the caller fetches at most MAX_RESULT_BYTES (and says how big the
// value really is), the pickle reader has its own limits (pickle-reader.ts), JSON is checked for
// depth before JSON.parse, and the display walks the value with a character budget — a few
// hundred bytes of pickle can share one list 2^47 times, and rendering that in full never ends.
// A value that fails any of these is `undecodable` with the reason: a finding, never a hang.
/** The most of the result column the action reads (ping.ts fetches only this prefix). */
const MAX_RESULT_BYTES = 1024 * 1024;
/** Nesting allowed in a JSON result (JSON.parse and every reader after it recurse). */
const MAX_JSON_DEPTH = PICKLE_LIMITS.maxDepth;
const MAX_DISPLAY = 200;
/**
 * Decodes a stored result. `size` is the column's full length when `raw` is only its first bytes:
 * a value over MAX_RESULT_BYTES is not decoded at all (its prefix would not parse anyway).
 */
function decodeResult(raw, size = raw?.length ?? 0) {
    if (!raw || raw.length === 0)
        return { encoding: 'none', display: '(no result)' };
    if (size > MAX_RESULT_BYTES || raw.length > MAX_RESULT_BYTES)
        return undecodable(`${Math.max(size, raw.length)} bytes, over the ${MAX_RESULT_BYTES / 1024 / 1024} MiB the action reads`, raw, size);
    // Pickle protocol 2+ starts with PROTO (0x80); JSON never does (it is text).
    if (raw[0] === 0x80) {
        try {
            const value = readPickle(raw);
            return { value, encoding: 'pickle', display: show(value) };
        }
        catch (error) {
            if (error instanceof UndecodablePickle)
                return undecodable(`pickle: ${error.message}`, raw, size);
            return undecodable(`pickle: ${error instanceof Error ? error.message : String(error)}`, raw, size);
        }
    }
    const text = raw.toString('utf8');
    const depth = jsonDepth(text);
    if (depth > MAX_JSON_DEPTH)
        return undecodable(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`, raw, size);
    try {
        const value = JSON.parse(text);
        return { value, encoding: 'json', display: show(value) };
    }
    catch {
        return { encoding: 'bytes', display: describeBytes(raw, size) };
    }
}
function undecodable(reason, raw, size) {
    return { encoding: 'undecodable', display: `undecodable result (${reason}): ${describeBytes(raw, size)}` };
}
function describeBytes(raw, size) {
    return `${Math.max(size, raw.length)} bytes (${raw.subarray(0, 16).toString('hex')}…)`;
}
/** The deepest bracket nesting outside strings: one pass, no allocation. */
function jsonDepth(text) {
    let depth = 0;
    let deepest = 0;
    let inString = false;
    for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (inString) {
            if (c === 0x5c)
                i++; // backslash: skip the escaped character
            else if (c === 0x22)
                inString = false;
        }
        else if (c === 0x22)
            inString = true;
        else if (c === 0x5b || c === 0x7b)
            deepest = Math.max(deepest, ++depth);
        else if (c === 0x5d || c === 0x7d)
            depth--;
    }
    return deepest;
}
/** The rendering for evidence: a top-level string in quotes, anything else as compact JSON-like text. */
function show(value) {
    const text = typeof value === 'string' ? `'${escapeControls(value.slice(0, MAX_DISPLAY))}'` : render(value, MAX_DISPLAY + 1);
    return text.length > MAX_DISPLAY ? `${text.slice(0, MAX_DISPLAY - 1)}…` : text;
}
/**
 * Compact JSON-like text of `value`, stopping once `budget` characters are written: every node
 * visited writes at least one character, so the walk costs O(budget) whatever the value shares.
 * A container already open above (a cycle) is written `[…]` / `{…}`.
 */
function render(value, budget) {
    const out = [];
    let used = 0;
    const open = new Set();
    const write = (piece) => {
        out.push(piece);
        used += piece.length;
        return used < budget;
    };
    const walk = (v) => {
        if (v === null || v === undefined)
            return write('null');
        if (typeof v === 'string')
            return write(JSON.stringify(v.length > budget ? v.slice(0, budget) : v));
        if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint')
            return write(String(v));
        if (Buffer.isBuffer(v))
            return write(`b'${v.subarray(0, Math.min(v.length, budget)).toString('hex')}'`);
        if (v instanceof PyGlobal)
            return write(v.name);
        if (typeof v !== 'object')
            return write(`<${typeof v}>`);
        if (open.has(v))
            return write(Array.isArray(v) ? '[…]' : '{…}');
        open.add(v);
        try {
            if (v instanceof PyObject) {
                if (!write(`${v.type}(`))
                    return false;
                if (!items(v.args))
                    return false;
                return write(')');
            }
            if (Array.isArray(v)) {
                if (!write('['))
                    return false;
                if (!items(v))
                    return false;
                return write(']');
            }
            if (!write('{'))
                return false;
            let first = true;
            for (const key in v) {
                if (!Object.prototype.hasOwnProperty.call(v, key))
                    continue;
                if (!first && !write(','))
                    return false;
                first = false;
                if (!write(`${JSON.stringify(key.length > budget ? key.slice(0, budget) : key)}:`))
                    return false;
                if (!walk(v[key]))
                    return false;
            }
            return write('}');
        }
        finally {
            open.delete(v);
        }
    };
    const items = (list) => {
        for (let i = 0; i < list.length; i++) {
            if (i > 0 && !write(','))
                return false;
            if (!walk(list[i]))
                return false;
        }
        return true;
    };
    walk(value);
    return out.join('').slice(0, budget);
}
function escapeControls(text) {
    return text.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}
/** A failed task's stored exception, as `Type('message')`, from Celery's {exc_type, exc_message}. */
function describeStoredException(value) {
    // result_serializer='pickle' stores the exception object itself: pickled, it is a call of its class.
    if (value instanceof PyObject) {
        const type = value.type.split('.').pop() ?? value.type;
        return `${type}(${JSON.stringify(joined(value.args))})`;
    }
    if (!value || typeof value !== 'object')
        return undefined;
    const v = value;
    if (typeof v.exc_type !== 'string')
        return undefined;
    const msg = Array.isArray(v.exc_message) ? joined(v.exc_message) : plain(v.exc_message ?? '');
    return `${v.exc_type.slice(0, MAX_DISPLAY)}(${JSON.stringify(msg)})`;
}
/** The arguments as `a, b`, bounded like every other rendering (they may share or nest without end). */
function joined(args) {
    const parts = [];
    let used = 0;
    for (const arg of args) {
        if (used > MAX_DISPLAY)
            break;
        const part = plain(arg);
        parts.push(part);
        used += part.length + 2;
    }
    const text = parts.join(', ');
    return text.length > MAX_DISPLAY ? `${text.slice(0, MAX_DISPLAY - 1)}…` : text;
}
function plain(value) {
    return typeof value === 'string' ? value.slice(0, MAX_DISPLAY + 1) : render(value, MAX_DISPLAY + 1);
}

// The data-plane ping: the message Celery itself built (in bootstrap.py) is published by the data
// plane (planes/: kombu's sqla tables, PGMQ) on the run's own queue, exactly as kombu's transport
// would, before the worker starts, so the worker's first poll takes it; then the result row is
// read back from the result backend's table by task id. `celery inspect ping` cannot work on the
// sqla transport (no fanout) nor on PGMQ (its reply queue's name is over PGMQ's 47 characters),
// so this is the only proof.
//
// Every wait is bounded by the run's deadline and wakes early on the worker's own signals: its
// exit (Celery 5.2 exits 0 even on fatal errors), an `Unrecoverable error`, or the database
// refusing it (the worker itself would retry forever).
/** Status values after which celery_taskmeta will not change for this task. */
const FINAL = new Set(['SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED', 'IGNORED']);
const RESULT_POLL_MS = 10;
const INSUFFICIENT_PRIVILEGE = '42501';
/** The most of a stored traceback read back (a real one is a few KiB). */
const MAX_TRACEBACK_CHARS = 64 * 1024;
async function pingThroughDataPlane(d) {
    const payload = d.probe.ping_payload;
    if (!payload) {
        d.worker.cancel();
        return { kind: 'not-run', reason: `Celery could not build the ping message: ${d.probe.ping_payload_error ?? 'no payload'}` };
    }
    const tables = d.probe.tables;
    const plane = planeOf(d.plane.kind);
    // 1. Reach the broker's database as the worker will: same DSN, same role.
    let broker;
    let actionRefusal;
    try {
        broker = await connect(d.plane.broker.parts, { connectTimeoutMs: boundedMs(d.deadline, 5000) });
        d.keepConnection(broker);
    }
    catch (err) {
        const failure = describeDbError(err);
        actionRefusal = failure.message;
        if (!isRefusal(failure))
            actionRefusal = `${failure.message} (${failure.code ?? 'no code'})`;
    }
    // 2. Publish before the worker exists when the broker tables do; otherwise after it made them.
    // With the run's ping go the pings for the app's other queues and the dlq probe (bootstrap.py).
    const outgoing = [{ queue: d.queue, payload }, ...(d.probe.extra_payloads ?? []).flatMap((x) => (x.payload ? [{ queue: x.queue, payload: x.payload }] : []))];
    const consumed = d.probe.consumed_queues ?? [d.queue];
    let published = false;
    let publishedAtMs = 0;
    let publishError;
    const send = async () => {
        d.keepMessages(await plane.publish(broker, d.probe, consumed, outgoing));
        published = true;
        publishedAtMs = d.worker.elapsed();
    };
    if (broker) {
        try {
            if (await plane.ready(broker, d.probe))
                await send();
        }
        catch (err) {
            publishError = describeDbError(err);
        }
    }
    // A table held by another session would block the worker's poll just the same: say who holds
    // it instead of starting a worker that can only hang.
    if (publishError && publishError.code !== INSUFFICIENT_PRIVILEGE && broker) {
        d.worker.cancel();
        return { kind: 'publish-failed', reason: await explainPublishFailure(broker, publishError, plane.lockedTables(d.probe, [d.queue])) };
    }
    d.worker.go();
    if (actionRefusal)
        return awaitWorkerRefusal(d, actionRefusal);
    const stop = () => stopReason(d);
    if (broker && !published && !publishError) {
        // Fresh database: the worker creates the tables and its queue rows (the run's queue last, so
        // once it exists the others do); publish right after.
        while (!published) {
            const s = stop();
            if (s)
                return s;
            try {
                if (await plane.queueExists(broker, d.probe, d.queue))
                    await send();
            }
            catch (err) {
                const failure = describeDbError(err);
                if (failure.code !== '42P01') {
                    publishError = failure;
                    break;
                }
            }
            if (!published)
                await pause(d, 20);
        }
    }
    if (publishError) {
        // The worker's role cannot write its own broker tables; the worker will show the same error.
        const s = await waitForWorkerSign(d, REFUSAL_GRACE_MS);
        const object = plane.kind === 'sqla' ? tables.queue : `the ${plane.kind} queues`;
        return s ?? { kind: 'db-denied', object, line: `publishing the ping as the worker's role failed: ${publishError.message}` };
    }
    // 3. Read the result back from the result backend's table.
    const reader = new ResultReader(resultConnection(d.plane, broker), d.probe, d.taskId);
    try {
        while (true) {
            const row = await reader.read(d.deadline);
            if (row && FINAL.has(row.status))
                return outcomeOf(row, publishedAtMs, d.worker.elapsed());
            const s = stop();
            // A worker that died while the server was away: say so, its last line may not.
            if (s?.kind === 'worker-exited' && reader.unreachableMs() > 0)
                return { ...s, dbError: reader.lastError };
            if (s)
                return s;
            const lost = reader.unreachableMs();
            if (lost > DB_LOST_GRACE_MS)
                return { kind: 'db-lost', reason: `${reader.lastError ?? 'no answer'} (for ${(lost / 1000).toFixed(1)} s)` };
            if (d.watch.taskSucceeded && d.worker.elapsed() - d.watch.taskSucceeded.atMs > RESULT_ROW_GRACE_MS)
                return { kind: 'no-result', line: d.watch.taskSucceeded.line };
            await pause(d, RESULT_POLL_MS);
        }
    }
    finally {
        await reader.close();
    }
}
/**
 * Why waiting for the pong must end now, if it must. A refusal that a restarting server also gives
 * ends the wait only once it has lasted (the worker reconnects by itself when the server is back),
 * or at once when the action's own connection was refused too (`acceptTransient`).
 */
/**
 * The final states of the result rows of `taskIds` (the pings through the app's queues, the dlq
 * probe task), read back until every one is final, `until` (a performance.now() value) passes or
 * `stop` says so. The node that stored each is there with result_extended.
 */
async function readFinalResults(db, tables, taskIds, until, stop) {
    const table = qualified(tables.task, tables.task_schema);
    const rows = new Map();
    while (performance.now() < until && !stop()) {
        const found = await db.query(
        // Bounded like the ping's read: copies of a row (no UNIQUE(task_id)) cannot grow the answer.
        `SELECT task_id, left(status::text, 50) AS status, left(to_jsonb(t) ->> 'worker', 300) AS worker FROM ${table} t WHERE task_id = ANY($1::text[]) LIMIT ${MAX_EXTRA_ROWS}`, [taskIds]);
        for (const r of found)
            if (FINAL.has(r.status))
                rows.set(r.task_id, { status: r.status, worker: r.worker });
        if (rows.size === taskIds.length)
            break;
        await new Promise((resolve) => setTimeout(resolve, 50).unref());
    }
    return rows;
}
function stopReason(d, acceptTransient = false) {
    if (d.signal.aborted)
        return { kind: 'cancelled' };
    const w = d.watch;
    const r = w.refused;
    if (r && (!r.transient || acceptTransient || d.worker.elapsed() - r.atMs > DB_LOST_GRACE_MS))
        return { kind: 'db-refused', reason: r.reason, source: 'worker', line: r.line };
    const plane = planeOf(d.plane.kind);
    if (w.denied && plane.ownsObject(w.denied.object, d.probe))
        return { kind: 'db-denied', object: w.denied.object, line: w.denied.line };
    // Every later result fails the same way: waiting out the timeout would only hide the cause.
    const rs = w.resultStore;
    if (rs && (!rs.table || plane.ownsObject(rs.table, d.probe))) {
        const table = rs.table ?? d.probe.tables.task;
        const fromBoot = table === d.probe.tables.task ? w.columnsNotAdded : [];
        const columns = [...new Set([...(rs.column ? [rs.column] : []), ...fromBoot])];
        return { kind: 'result-store', line: rs.line, cause: rs.cause, table, columns, warning: w.columnNotAddedLine?.line };
    }
    const exit = w.exited;
    if (exit)
        return { kind: 'worker-exited', exit, line: (w.fatal ?? lastErrorLine(d.worker))?.line };
    if (performance.now() >= d.deadline)
        return { kind: 'timeout', detail: timeoutDetail(d) };
    return undefined;
}
function timeoutDetail(d) {
    const seconds = ((d.deadline - d.worker.spawnedAt) / 1000).toFixed(0);
    if (!d.watch.ready)
        return `the worker did not get ready within ${seconds} s`;
    if (!d.watch.taskReceived)
        return `the worker was ready but did not take the ping from queue ${d.queue} within ${seconds} s`;
    return `the worker received the ping but no result arrived within ${seconds} s`;
}
function lastErrorLine(worker) {
    const lines = worker.lastLines(40);
    for (let i = lines.length - 1; i >= 0; i--) {
        const line = lines[i];
        if (/Error|error:|CRITICAL|Traceback|Exception/.test(line))
            return { line, atMs: 0 };
    }
    const last = lines.at(-1);
    return last ? { line: last, atMs: 0 } : undefined;
}
/** We could not connect with the worker's DSN: give the worker a moment to say it in its words. */
async function awaitWorkerRefusal(d, ours) {
    const s = await waitForWorkerSign(d, REFUSAL_GRACE_MS);
    if (s && s.kind !== 'timeout')
        return s;
    return { kind: 'db-refused', reason: ours, source: 'action' };
}
async function waitForWorkerSign(d, graceMs) {
    const until = Math.min(d.deadline, performance.now() + graceMs);
    while (performance.now() < until) {
        // Called when the action's own connection already failed: the worker's refusal is final.
        const s = stopReason(d, true);
        if (s && s.kind !== 'timeout')
            return s;
        await pause(d, Math.min(100, until - performance.now()));
    }
    return undefined;
}
/** Sleeps `ms`, waking early at cancellation or at anything notable the worker prints. */
function pause(d, ms) {
    return new Promise((resolve) => {
        const timer = setTimeout(done, Math.max(0, ms));
        const unsubscribe = d.watch.onChange(done);
        d.signal.addEventListener('abort', done, { once: true });
        function done() {
            clearTimeout(timer);
            unsubscribe();
            d.signal.removeEventListener('abort', done);
            resolve();
        }
    });
}
function boundedMs(deadline, cap) {
    return Math.max(250, Math.min(cap, deadline - performance.now()));
}
/**
 * Why the ping could not be inserted, with who holds the broker tables when it was a lock: the
 * worker's own poll would wait on that session forever, so naming it is the useful evidence.
 */
async function explainPublishFailure(db, failure, tables) {
    if (failure.code !== '55P03' && failure.code !== '57014')
        return failure.message;
    try {
        const holders = await db.query(`SELECT l.pid, a.usename::text, a.application_name, l.mode, c.relname::text
         FROM pg_locks l JOIN pg_class c ON c.oid = l.relation LEFT JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.granted AND l.pid <> pg_backend_pid()
          AND l.relation = ANY (SELECT to_regclass(t) FROM unnest($1::text[]) AS t)
          AND l.mode IN ('AccessExclusiveLock', 'ExclusiveLock', 'ShareRowExclusiveLock', 'ShareLock', 'RowExclusiveLock')
        ORDER BY l.mode = 'AccessExclusiveLock' DESC LIMIT 3`, [tables]);
        const strong = holders.filter((h) => h.mode !== 'RowExclusiveLock');
        if (!strong.length)
            return `${failure.message} (no session holds a blocking lock now)`;
        const who = strong
            .map((h) => `pid ${h.pid}${h.usename ? ` (${h.usename}${h.application_name ? `, ${h.application_name}` : ''})` : ''} holds ${h.mode} on ${h.relname}`)
            .join('; ');
        return `the broker tables are locked by another session: ${who}; end that session or its transaction`;
    }
    catch {
        return failure.message;
    }
}
function outcomeOf(row, publishedAtMs, nowMs) {
    const result = decodeResult(row.result, row.result_size ?? 0);
    if (row.status === 'SUCCESS')
        return { kind: 'pong', result, publishedAtMs, pongAtMs: nowMs };
    const error = describeStoredException(result.value) ?? `${row.status}: ${result.display}`;
    return { kind: 'task-failed', error, traceback: row.traceback ?? undefined, pongAtMs: nowMs };
}
/** At most this many rows answer the extra pings' read-back (a few per queue is plenty). */
const MAX_EXTRA_ROWS = 1000;
function resultConnection(plane, broker) {
    const same = dsnTarget(plane.backend.parts) === dsnTarget(plane.broker.parts) &&
        plane.backend.parts.username === plane.broker.parts.username &&
        plane.backend.parts.password === plane.broker.parts.password;
    return same && broker ? { parts: plane.backend.parts, shared: broker } : { parts: plane.backend.parts };
}
/**
 * Reads the ping's row, reconnecting when the server goes away (a restart mid-run must not end
 * the wait early: the worker may still answer before the deadline).
 */
class ResultReader {
    conn;
    taskId;
    db;
    sql;
    lastConnectAttempt = 0;
    /** When the server stopped answering (undefined while it answers), and what it said last. */
    failingSince;
    lastError;
    constructor(conn, probe, taskId) {
        this.conn = conn;
        this.taskId = taskId;
        this.db = conn.shared;
        // Anyone with INSERT on the table can write this row: read a bounded prefix of each column
        // (a result of a gigabyte would otherwise be fetched, hex-encoded, into one string), and one
        // row only (a table made without UNIQUE(task_id) may hold many copies of it).
        this.sql =
            `SELECT left(status::text, 50) AS status, substring(result from 1 for ${MAX_RESULT_BYTES + 1}) AS result, octet_length(result) AS result_size,` +
                ` left(traceback, ${MAX_TRACEBACK_CHARS}) AS traceback FROM ${qualified(probe.tables.task, probe.tables.task_schema)} WHERE task_id = $1 LIMIT 1`;
    }
    async read(deadline) {
        if (!this.db) {
            if (performance.now() - this.lastConnectAttempt < 250)
                return undefined;
            this.lastConnectAttempt = performance.now();
            try {
                this.db = await connect(this.conn.parts, { connectTimeoutMs: boundedMs(deadline, 2000) });
            }
            catch (err) {
                this.failing(describeDbError(err).message);
                return undefined;
            }
        }
        try {
            const rows = await this.db.query(this.sql, [this.taskId]);
            this.failingSince = undefined;
            return rows[0];
        }
        catch (err) {
            const failure = describeDbError(err);
            if (failure.code === '42P01') {
                this.failingSince = undefined;
                return undefined; // result table not created yet (Celery < 5.5 creates it lazily)
            }
            this.failing(failure.message);
            if (this.db !== this.conn.shared)
                await this.db.close();
            this.db = undefined;
            this.conn.shared = undefined;
            return undefined;
        }
    }
    /** Milliseconds the server has not answered for (0 while it answers). */
    unreachableMs() {
        return this.failingSince === undefined ? 0 : performance.now() - this.failingSince;
    }
    failing(message) {
        this.failingSince ??= performance.now();
        this.lastError = message;
    }
    async close() {
        if (this.db && this.db !== this.conn.shared)
            await this.db.close();
    }
}

// Facts read from the worker's lines as they arrive: banner values, the ready line, and the first
// sign of each kind of trouble. Loops that wait for the ping subscribe with `onChange`, so they
// wake the moment something notable is printed instead of at their next poll.
const BANNER_QUEUE = /\.>\s+(\S+)\s+exchange=/;
const BANNER_TASK = /^\s+\.\s+(\S+)\s*$/;
const MAX_LINES_SINCE_READY = 2000;
class WorkerWatch {
    worker;
    transport;
    results;
    ready;
    fatal;
    refused;
    denied;
    /** The first line saying a result could not be stored or read, and the column it names. */
    resultStore;
    /** Columns Celery said at boot it could not add to its result table, and the first such line. */
    columnsNotAdded = [];
    columnNotAddedLine;
    taskReceived;
    taskSucceeded;
    taskFailed;
    /** What the banner lists: the queues the worker consumes (`.> name exchange=…`) and its tasks. */
    bannerQueues = [];
    bannerTasks;
    /** Every line from `ready.` on (bounded): what the worker printed while it handled the pings. */
    sinceReady = [];
    inTasks = false;
    subscribers = new Set();
    constructor(worker, ids) {
        this.worker = worker;
        worker.onLine((line) => {
            const seen = () => ({ line, atMs: worker.elapsed() });
            this.readBanner(line);
            if (this.ready && this.sinceReady.length < MAX_LINES_SINCE_READY)
                this.sinceReady.push(seen());
            const k = classifyLine(line, ids);
            switch (k.kind) {
                case 'transport':
                    this.transport ??= k.value;
                    break;
                case 'results':
                    this.results ??= k.value;
                    break;
                case 'ready':
                    this.ready ??= seen();
                    break;
                case 'fatal':
                    this.fatal ??= seen();
                    break;
                case 'db-refused':
                    // A definite refusal replaces a transient one; the first of each kind is kept.
                    if (!this.refused || (this.refused.transient && !k.transient))
                        this.refused = { ...seen(), reason: k.reason, transient: k.transient };
                    break;
                case 'db-denied':
                    this.denied ??= { ...seen(), object: k.object };
                    break;
                case 'result-store':
                    // A line naming the column beats a bare BackendStoreError: it says what to add.
                    if (!this.resultStore || (!this.resultStore.column && k.column))
                        this.resultStore = { ...seen(), table: k.table, column: k.column, cause: k.cause };
                    break;
                case 'result-column-not-added':
                    if (!this.columnsNotAdded.includes(k.column) && this.columnsNotAdded.length < 50)
                        this.columnsNotAdded.push(k.column);
                    this.columnNotAddedLine ??= seen();
                    break;
                case 'task-received':
                    this.taskReceived ??= seen();
                    break;
                case 'task-succeeded':
                    this.taskSucceeded ??= seen();
                    break;
                case 'task-failed':
                    this.taskFailed ??= seen();
                    break;
                default:
                    return;
            }
            this.notify();
        });
        void worker.exited.then(() => this.notify());
    }
    /** Calls `wake` at every notable line and at the worker's exit, until unsubscribed. */
    onChange(wake) {
        this.subscribers.add(wake);
        return () => this.subscribers.delete(wake);
    }
    /** Resolves at the next notable line or at the worker's exit. */
    next() {
        return new Promise((resolve) => {
            const unsubscribe = this.onChange(() => {
                unsubscribe();
                resolve();
            });
        });
    }
    get exited() {
        return this.worker.hasExited;
    }
    readBanner(line) {
        const queue = BANNER_QUEUE.exec(line);
        if (queue)
            this.bannerQueues.push(queue[1]);
        if (line.trim() === '[tasks]') {
            this.inTasks = true;
            this.bannerTasks = [];
            return;
        }
        if (!this.inTasks)
            return;
        const task = BANNER_TASK.exec(line);
        if (task)
            this.bannerTasks?.push(task[1]);
        else
            this.inTasks = false;
    }
    notify() {
        for (const wake of [...this.subscribers])
            wake();
    }
}

// The names one run uses (its node, its queue, its ping's task id, its database sessions'
// application_name), each unique to the run: nothing it leaves behind is mistaken for another's.
function newRunIds(host = hostname()) {
    const runId = `cfg-${randomBytes(4).toString('hex')}`;
    return {
        runId,
        nodeName: `${runId}@${nodeHost(runId, host)}`,
        queue: `${runId}.ping`,
        taskId: randomUUID(),
        applicationName: runId
    };
}
/**
 * The host part of the worker's node name. On PGMQ every node declares its pidbox queue
 * `<node>.celery.pidbox`, and PGMQ refuses queue names over 47 characters: the worker dies at boot
 * (`queue name is too long`) with a runner's FQDN or a Kubernetes pod name. The node name is
 * chosen before the worker reports its broker (it is on the worker's command line), so a host that
 * would not fit is shortened whatever the transport — first to its first label, then cut — while
 * a host that fits (a GitHub-hosted runner's) stays as it is. The run id keeps the name unique.
 */
function nodeHost(runId, host) {
    const fits = (h) => pidboxQueue('', `${runId}@${h}`).length <= PGMQ_MAX_QUEUE_NAME;
    if (fits(host))
        return host;
    const label = host.split('.')[0] || 'host';
    if (fits(label))
        return label;
    const room = PGMQ_MAX_QUEUE_NAME - pidboxQueue('', `${runId}@`).length;
    return label.slice(0, Math.max(1, room));
}

/** The worker's output as GateFacts shows it: live reads of the process and its watcher. */
function linesOf(facts) {
    return {
        get loglevel() {
            return facts.command.loglevel;
        },
        get ready() {
            return facts.watch?.ready;
        },
        get bannerTasks() {
            return facts.watch?.bannerTasks;
        },
        get bannerQueues() {
            return facts.watch?.bannerQueues ?? [];
        },
        get sinceReady() {
            return facts.watch?.sinceReady ?? [];
        },
        lastLines: (n) => facts.worker?.lastLines(n) ?? [],
        elapsedMs: () => facts.worker?.elapsed()
    };
}

// What one run leaves in the database and how it is removed: the run's ping and queue pings, its
// queue (and, on PGMQ, the worker's pidbox queue), its result rows and the dead-letter row of the
// dlq probe task — each through the data plane's removeTrace, so the run knows no transport.
/** Removes the run's trace; the detail may quote the database (the caller redacts it). */
async function removeRunTrace(db, run, opts = {}) {
    const outcome = run.probe;
    if (!outcome?.ok)
        return { removed: true, detail: 'nothing to remove: no ping was published' };
    const extras = outcome.probe.extra_payloads ?? [];
    // The dead-letter row the probe task left, in the table PostgreSQL resolves the name to (a
    // user's input is never spliced into SQL as written).
    const probeId = extras.find((x) => x.purpose === 'probe')?.taskId;
    const dlq = run.settings.dlqTable && probeId ? await resolveTable(db, run.settings.dlqTable).catch(() => undefined) : undefined;
    const plane = classifyDataPlane(outcome.probe, run.ids);
    return planeOf(plane.ok ? plane.plane.kind : 'sqla').removeTrace(db, {
        probe: outcome.probe,
        queue: run.ids.queue,
        nodeName: run.ids.nodeName,
        applicationName: run.ids.applicationName,
        sent: run.sent,
        taskIds: [run.ids.taskId, ...extras.map((x) => x.taskId)],
        ...(dlq && probeId ? { deadLetter: { table: dlq, taskId: probeId } } : {})
    }, opts);
}

// Continuous outside attribution for rls-role: from the worker's spawn to its stop, pg_stat_activity
// is read every SAMPLE_INTERVAL_MS on a connection of the action's own, for the sessions of the
// worker's process tree — those carrying the run's application_name (PGAPPNAME, which libpq, psql
// and psycopg read) and those whose client port is a TCP socket held by a process of the tree
// (run/proc: /proc/<pid>/fd → /proc/<pid>/net/tcp). The in-process record (connections.py) sees
// what goes through the hooked drivers; this sees what goes around them (libpq through ctypes, a
// subprocess running psql, asyncpg), as long as the session lives for one sample. It never reads
// a password: pg_stat_activity holds none, and the query column is not selected.
const SAMPLE_INTERVAL_MS = 300;
/** Distinct sessions kept (a kept pool opening one per task for the whole run must stay bounded). */
const SAMPLED_SESSIONS_MAX = 500;
/** Consecutive failed samples after which sampling stops (the server went away, the role lost rights). */
const ERRORS_MAX = 5;
const FIELD_MAX = 200;
class SessionSampler {
    options;
    sessions = new Map();
    /** Sessions seen but not kept, each counted once (itself bounded: past it, only counted). */
    droppedKeys = new Set();
    droppedMore = 0;
    samples = 0;
    errors = 0;
    note;
    stopped = false;
    timer;
    db;
    serverPort = 5432;
    inFlight;
    /** Worker ports no visible session matched, by how many samples running; and those seen so in two. */
    unmatched = new Map();
    unseen = new Set();
    sampledAs = 'the sampling role';
    connecting;
    constructor(options) {
        this.options = options;
    }
    start() {
        if (this.connecting || this.stopped)
            return;
        this.connecting = this.options
            .connect()
            .then(async (target) => {
            if (!target) {
                this.note ??= 'no PostgreSQL DSN to sample from';
                return;
            }
            // Stopped while connecting: the connection is not needed any more.
            if (this.stopped)
                return target.db.close();
            this.db = target.db;
            this.sampledAs = target.db.role;
            this.serverPort = target.serverPort;
            this.tick();
        })
            .catch((err) => {
            this.note ??= `could not connect to sample pg_stat_activity: ${this.options.redact(String(err?.message ?? err).split('\n')[0] ?? '')}`;
        });
    }
    /** One more sample now (when sampling), then what was seen so far. */
    async snapshot() {
        if (this.db && !this.stopped) {
            await this.inFlight;
            const sample = this.sampleOnce().then(() => undefined);
            this.inFlight = sample;
            await sample;
        }
        return this.record();
    }
    /** Stops sampling and closes the connection; safe to call more than once, on every path. */
    async stop() {
        this.stopped = true;
        if (this.timer)
            clearTimeout(this.timer);
        this.timer = undefined;
        await this.inFlight?.catch(() => undefined);
        const db = this.db;
        this.db = undefined;
        await db?.close();
    }
    record() {
        const byKey = new Map();
        for (const s of this.sessions.values()) {
            const key = JSON.stringify([s.role, s.where]);
            const seen = byKey.get(key);
            if (seen)
                seen.count++;
            else
                byKey.set(key, { role: s.role, where: s.where, source: 'pg_stat_activity', count: 1 });
        }
        return {
            identities: [...byKey.values()],
            samples: this.samples,
            dropped: this.droppedKeys.size + this.droppedMore,
            ...(this.note ? { note: this.note } : {}),
            ...(this.unseen.size
                ? {
                    unattributed: `${this.unseen.size} connection${this.unseen.size === 1 ? '' : 's'} of the worker's processes to port ${this.serverPort} matched no session ${this.clean(this.sampledAs)} may see: PostgreSQL shows a session's client port only to its own role, a member, or pg_read_all_stats, so a session of another role (a superuser among them) with its own application_name goes unseen (or it is another server on that port) — set database-url to a role with pg_read_all_stats to see them`
                }
                : {})
        };
    }
    tick() {
        if (this.stopped || !this.db)
            return;
        const sample = this.sampleOnce();
        this.inFlight = sample.then(() => undefined);
        void sample.then((more) => {
            // The worker stopped: its sessions are gone, nothing more to see.
            if (this.stopped || !more)
                return;
            this.timer = setTimeout(() => this.tick(), this.options.intervalMs ?? SAMPLE_INTERVAL_MS);
            // Never what keeps the action's process alive.
            this.timer.unref();
        });
    }
    /** Takes one sample; false once there is nothing more to sample (no worker, no connection). */
    async sampleOnce() {
        const db = this.db;
        const root = this.options.workerPid();
        if (!db || !root)
            return false;
        const pids = descendants(root).filter(isAlive);
        const owners = portOwners(pids, this.serverPort);
        try {
            const rows = await db.query(`SELECT pid, usename, application_name, client_port, backend_start::text AS backend_start
           FROM pg_stat_activity
          WHERE pid <> pg_backend_pid() AND usename IS NOT NULL
            AND (application_name = $1 OR client_port = ANY($2::int[]))`, [this.options.applicationName, [...owners.keys()]]);
            this.samples++;
            this.errors = 0;
            for (const row of rows)
                this.keep(row, owners);
            this.noteUnmatched(rows, owners);
            return true;
        }
        catch (err) {
            if (++this.errors >= ERRORS_MAX) {
                this.note = `sampling stopped after ${ERRORS_MAX} failed samples: ${this.options.redact(String(err?.message ?? err).split('\n')[0] ?? '')}`;
                return false;
            }
            return true;
        }
    }
    /** A worker port matched by no row in two samples running (one connecting is matched by the next). */
    noteUnmatched(rows, owners) {
        const matched = new Set(rows.map((r) => r.client_port));
        for (const port of [...this.unmatched.keys()])
            if (!owners.has(port) || matched.has(port))
                this.unmatched.delete(port);
        for (const port of owners.keys()) {
            if (matched.has(port) || this.unseen.has(port))
                continue;
            const n = (this.unmatched.get(port) ?? 0) + 1;
            this.unmatched.set(port, n);
            if (n >= 2 && this.unseen.size < SAMPLED_SESSIONS_MAX)
                this.unseen.add(port);
        }
    }
    keep(row, owners) {
        // A backend pid is reused only after that session ended; with its start time it is one session.
        const key = `${row.pid}:${row.backend_start ?? ''}`;
        if (this.sessions.has(key) || this.droppedKeys.has(key))
            return;
        const max = this.options.maxSessions ?? SAMPLED_SESSIONS_MAX;
        if (this.sessions.size >= max) {
            if (this.droppedKeys.size < max * 20)
                this.droppedKeys.add(key);
            else
                this.droppedMore++;
            return;
        }
        const role = this.clean(row.usename ?? '?');
        this.sessions.set(key, { role, where: whereOf(row, owners, this.options.applicationName, (t) => this.clean(t)) });
    }
    /** Outside text (the app sets application_name, a process sets its own name): printable, short, scrubbed. */
    clean(text) {
        return this.options.redact(text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')).slice(0, FIELD_MAX);
    }
}
/**
 * Starts sampling for a spawned worker, on a connection of its own to the action's database
 * (`databaseParts`: database-url, else the broker's DSN, known once the app imported): the gates'
 * transactions on the shared connection must not hold its samples.
 */
function startSampler(run, worker) {
    const sampler = new SessionSampler({
        connect: async () => {
            const parts = (await run.databaseParts())?.parts;
            return parts ? { db: await connect(parts, { connectTimeoutMs: 5000 }), serverPort: parts.port ?? 5432 } : undefined;
        },
        applicationName: run.ids.applicationName,
        workerPid: () => (worker.hasExited ? undefined : worker.pid),
        redact: (text) => run.redact(text)
    });
    sampler.start();
    return sampler;
}
/** "python3 process (application_name reports-etl)", or "session with the run's application_name". */
function whereOf(row, owners, runApplicationName, clean) {
    const process = row.client_port !== null ? owners.get(row.client_port) : undefined;
    const app = row.application_name && row.application_name !== runApplicationName ? ` (application_name ${clean(row.application_name)})` : '';
    return process !== undefined ? `${clean(process)} process${app}` : `session with the run's application_name${app}`;
}
/** Each local port of a socket of `pids` to `serverPort`, with the name of the process holding it. */
function portOwners(pids, serverPort) {
    const owners = new Map();
    for (const pid of pids)
        for (const port of localPortsTo([pid], serverPort))
            owners.set(port, commOf(pid));
    return owners;
}
function commOf(pid) {
    try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim().slice(0, 32) || `pid ${pid}`;
    }
    catch {
        return `pid ${pid}`;
    }
}

// Everything one run learns about the user's foundation, gathered once and shared by the gates:
// the probe of the imported app, the booted worker and what it prints, the data-plane ping, and
// the action's own database connection. Work starts as early as possible and overlaps: the worker
// boots (and imports the app) while the action connects and publishes the ping. The gates see it
// through GateFacts (gates/facts.ts: the contract they define and this class implements, a
// type-only import); the session also stops or keeps the worker and reads the report's facts.
class RunFacts {
    settings;
    secrets;
    options;
    ids = newRunIds();
    startedAt = performance.now();
    deadline;
    command;
    lines = linesOf(this);
    worker;
    watch;
    abort = new AbortController();
    probePromise;
    pingPromise;
    databasePromise;
    brokerConnection;
    probeAtMs;
    sent = [];
    extrasPromise;
    testsPromise;
    stopInfo;
    sampler;
    constructor(settings, secrets, options = {}) {
        this.settings = settings;
        this.secrets = secrets;
        this.options = options;
        this.deadline = this.startedAt + settings.timeoutSeconds * 1000;
        this.command = buildWorkerCommand(settings.workerArgs, {
            nodeName: this.ids.nodeName,
            queue: this.ids.queue,
            includes: settings.pingTask === 'celery.ping' ? ['celery.contrib.testing.tasks'] : []
        });
    }
    /** Boots the worker (it waits for our `go` after probing) and starts the ping. */
    start() {
        if (this.worker)
            return;
        const needs = new Set(this.options.fromWorker);
        // The post step reads the kept worker's output only from inside this folder (run/folder.ts).
        const workDir = this.options.workDir ?? runsRoot();
        const worker = new WorkerProcess({
            python: this.settings.python,
            cwd: this.settings.workingDirectory,
            app: this.settings.app,
            argv: this.command.argv,
            runId: this.ids.runId,
            pingTask: this.settings.pingTask,
            taskId: this.ids.taskId,
            queue: this.ids.queue,
            includePingModule: this.settings.pingTask === 'celery.ping',
            // A kept worker serves the app's own queues too.
            queuesFromApp: !this.command.userQueues && (needs.has('app-queues') || this.settings.keepWorker),
            pingEachQueue: needs.has('app-queues'),
            probeTask: needs.has('probe-task') ? this.settings.dlqProbeTask : undefined,
            logFile: path.join(workDir, this.ids.runId, 'worker.log'),
            outputFile: this.settings.keepWorker ? path.join(workDir, this.ids.runId, 'worker-output.log') : undefined,
            applicationName: this.ids.applicationName,
            passEnv: this.settings.workerEnv,
            connectionsFile: this.connectionsFile
        }, this.secrets);
        this.worker = worker;
        this.watch = new WorkerWatch(worker, this.ids);
        if (worker.pid)
            this.options.onWorkerSpawned?.(worker.pid, this.ids.runId);
        this.probePromise = Promise.race([
            worker.events.then((event) => this.toProbeOutcome(event, worker)),
            this.untilDeadlineOrCancel().then((why) => ({
                ok: false,
                kind: 'not-started',
                message: why === 'cancelled'
                    ? 'cancelled while the app was importing'
                    : `the app did not finish importing within ${this.settings.timeoutSeconds} s (does importing it hang, e.g. waiting for a service?)`,
                details: worker.lastLines(20).join('\n') || undefined
            }))
        ]);
        this.pingPromise = this.runPing();
        // rls-role's sampling of pg_stat_activity, from spawn (or the probe) until the worker stops.
        if (this.settings.gates.includes('rls-role'))
            this.sampler = startSampler(this, worker);
        // Nobody may be awaiting these yet; a rejection must not crash the process.
        this.pingPromise.catch(() => { });
    }
    probe() {
        this.start();
        return this.probePromise;
    }
    async dataPlane() {
        const outcome = await this.probe();
        return outcome.ok ? classifyDataPlane(outcome.probe, this.ids) : undefined;
    }
    ping() {
        this.start();
        return this.pingPromise;
    }
    async pingAnswered() {
        return (await this.ping()).kind === 'pong';
    }
    untilDeadlineOrCancel() {
        return new Promise((resolve) => {
            const timer = setTimeout(() => resolve('deadline'), Math.max(0, this.deadline - performance.now()));
            timer.unref();
            this.abort.signal.addEventListener('abort', () => {
                clearTimeout(timer);
                resolve('cancelled');
            }, { once: true });
        });
    }
    /**
     * Resolves when the worker printed both banner lines, or will not print them any more: it got
     * ready or exited, the ping's outcome is known, or time ran out.
     */
    async banner() {
        const watch = this.watch;
        if (!watch)
            return {};
        let pingSettled = false;
        void this.ping().then(() => (pingSettled = true));
        while (!(watch.transport && watch.results) && !watch.exited && !watch.ready && !pingSettled && !this.cancelled()) {
            if (performance.now() >= this.deadline)
                break;
            await Promise.race([watch.next(), this.ping(), sleep(Math.min(250, Math.max(0, this.deadline - performance.now())))]);
        }
        return { transport: watch.transport, results: watch.results };
    }
    /** Where the action's own SQL checks connect: `database-url`, else the app's broker DSN. */
    async databaseParts() {
        if (this.settings.databaseUrlParts)
            return { parts: this.settings.databaseUrlParts, source: 'input' };
        const plane = await this.dataPlane();
        return plane?.ok ? { parts: plane.plane.broker.parts, source: 'broker' } : undefined;
    }
    database() {
        this.databasePromise ??= (async () => {
            const target = await this.databaseParts();
            if (!target)
                throw new Error('no PostgreSQL DSN to check: set database-url or configure a PostgreSQL broker');
            return connect(target.parts, { connectTimeoutMs: 5000 });
        })();
        return this.databasePromise;
    }
    /**
     * The JUnit reports of `junit`, every failing test classified against this run's gate results
     * (rules may depend on them: a readiness error means something else when the runtime gate
     * failed). Computed once, by the session once the gates that prove something have run (see
     * EngineHooks.beforeJudges), whichever gates the run has: the `ci` gate only judges it.
     */
    tests(gates) {
        const patterns = this.settings.junit;
        if (!patterns)
            return Promise.resolve(undefined);
        // Loaded when there are reports to read: the XML reader, the globber and the compiled shipped
        // rules cost start-up time.
        this.testsPromise ??= Promise.all([this.ping(), import('./shared-analyze.js'), import('./shared-default-rules.js')]).then(([ping, { analyzeTests }, { DEFAULT_RULES }]) => analyzeTests({
            patterns,
            cwd: this.settings.workingDirectory,
            rules: [...this.settings.userRules, ...DEFAULT_RULES],
            rulesFile: this.settings.rulesFile,
            gates,
            values: this.remediationValues(ping)
        }));
        return this.testsPromise;
    }
    /** Measured facts that remediations quote, e.g. how fast this run's own ping was answered. */
    remediationValues(ping) {
        const values = { timeout_s: String(this.settings.timeoutSeconds), pong_ms: 'n/a', pong_after_ready_ms: 'n/a' };
        if (ping.kind === 'pong') {
            values.pong_ms = String(Math.round(ping.pongAtMs));
            const ready = this.watch?.ready;
            if (ready)
                values.pong_after_ready_ms = String(Math.max(0, Math.round(ping.pongAtMs - ready.atMs)));
        }
        return values;
    }
    get testsReport() {
        return this.testsPromise;
    }
    /**
     * Why the action's own SQL checks cannot run, when the reason is already known: they connect
     * with the worker's DSN (no `database-url` given) and the database refused exactly that DSN.
     */
    async sqlChecksBlocked() {
        if (this.settings.databaseUrl)
            return undefined;
        const ping = await this.ping();
        return ping.kind === 'db-refused'
            ? "not run: the database refused the worker's DSN, which these checks use (`runtime` failed); set database-url to check with another role"
            : undefined;
    }
    /**
     * What became of the pings sent to the app's own queues and of the dlq probe task: each result
     * row read back by task id. Waited for once the run's own ping was answered (the worker is then
     * polling), for a few of the broker's poll cycles at most.
     */
    extras() {
        this.extrasPromise ??= this.readExtras();
        return this.extrasPromise;
    }
    async readExtras() {
        const probe = await this.probe();
        const ping = await this.ping();
        if (!probe.ok)
            return [];
        const items = (probe.probe.extra_payloads ?? []).map((x) => ({ ...x, answered: false }));
        if (!items.length || ping.kind !== 'pong')
            return items.map((x) => ({ ...x, status: undefined }));
        const until = Math.min(this.deadline, performance.now() + EXTRAS_GRACE_MS);
        const rows = await readFinalResults(await this.database(), probe.probe.tables, items.map((x) => x.taskId), until, () => this.cancelled());
        return items.map((x) => ({ ...x, status: rows.get(x.taskId)?.status, worker: rows.get(x.taskId)?.worker ?? undefined }));
    }
    /** The run's folder's record of every database connection the worker's processes opened. */
    get connectionsFile() {
        return path.join(this.options.workDir ?? runsRoot(), this.ids.runId, CONNECTIONS_FILE);
    }
    /** Read once the pings it asked for ended: the connections their tasks opened are then recorded;
     * with them, the identities the app configures (written after import). */
    async identities() {
        await this.ping().catch(() => undefined);
        await this.extrasPromise?.catch(() => undefined);
        return readIdentities(this.connectionsFile, (t) => this.redact(t));
    }
    /** The sessions of the worker's process tree seen in pg_stat_activity from spawn until now. */
    async sampledSessions() {
        await this.ping().catch(() => undefined);
        await this.extrasPromise?.catch(() => undefined);
        return this.sampler ? this.sampler.snapshot() : { identities: [], samples: 0, dropped: 0, note: 'the worker was not started' };
    }
    /** The worker's processes right now (main process and pool children). */
    workerProcessIds() {
        const pid = this.worker?.pid;
        if (!pid || !this.workerRunning())
            return [];
        return descendants(pid).filter(isAlive);
    }
    workerRunning() {
        const w = this.worker;
        return !!w && !w.hasExited && !!w.pid && isAlive(w.pid);
    }
    cancel() {
        this.abort.abort();
    }
    cancelled() {
        return this.abort.signal.aborted;
    }
    /** Outside text (an error, a traceback) as it may be shown: known secrets and credential patterns cut. */
    redact(text) {
        return this.secrets.clean(text);
    }
    msSinceStart(atWorkerMs) {
        if (atWorkerMs === undefined || !this.worker)
            return undefined;
        return Math.round(this.worker.spawnedAt - this.startedAt + atWorkerMs);
    }
    get probeMs() {
        return this.probeAtMs;
    }
    /**
     * Stops the worker (warm, then killed), removes the run's trace from the broker and result
     * tables where the worker's role may delete, and closes every connection.
     */
    async close(graceMs = this.options.stopGraceMs ?? HEALTHY_STOP_GRACE_MS) {
        this.cancel();
        const worker = this.worker;
        if (worker) {
            const stop = await worker.stop(graceMs);
            this.stopInfo = { how: stop.how, ms: Math.round(stop.ms) };
        }
        else
            this.stopInfo = { how: 'not-started', ms: 0 };
        await this.sampler?.stop();
        await this.pingPromise?.catch(() => undefined);
        let cleanup;
        if (this.brokerConnection)
            cleanup = await this.removeTrace(this.brokerConnection);
        await this.brokerConnection?.close();
        const db = await this.databasePromise?.catch(() => undefined);
        await db?.close();
        return cleanup;
    }
    /**
     * Leaves the verified worker running for the steps that follow (keep-worker): its pings' trace
     * is removed (the run's own queue row stays: the worker polls it), connections are closed, and
     * the worker is let go. Returns the file its output keeps going to, for the post step.
     */
    async keep() {
        this.cancel();
        const worker = this.worker;
        if (!worker?.spec.outputFile)
            return { cleanup: await this.close() };
        await this.sampler?.stop();
        await this.pingPromise?.catch(() => undefined);
        await this.extrasPromise?.catch(() => undefined);
        const cleanup = this.brokerConnection ? await this.removeTrace(this.brokerConnection, { keepQueue: true }) : undefined;
        await this.brokerConnection?.close();
        const db = await this.databasePromise?.catch(() => undefined);
        await db?.close();
        await worker.release();
        this.stopInfo = { how: 'kept', ms: 0 };
        return { cleanup, outputFile: worker.spec.outputFile };
    }
    workerInfo() {
        const w = this.worker;
        if (!w)
            return undefined;
        const exit = w.hasExited;
        const log = w.logInfo();
        const info = {
            nodeName: this.ids.nodeName,
            queue: this.ids.queue,
            argv: ['celery', '-A', this.settings.app, 'worker', ...this.command.argv],
            logTail: w.lastLines(),
            logFile: log.file,
            logBytes: log.bytes,
            logTruncated: log.truncated
        };
        if (w.pid)
            info.pid = w.pid;
        if (this.watch?.ready)
            info.readyLine = this.watch.ready.line;
        if (exit)
            info.exit = { code: exit.code, signal: exit.signal, afterMs: Math.round(exit.afterMs) };
        if (this.stopInfo)
            info.stop = this.stopInfo;
        return info;
    }
    toProbeOutcome(event, worker) {
        this.probeAtMs = Math.round(performance.now() - this.startedAt);
        const seen = { python: this.settings.python, spawnError: worker.hasExited?.spawnError, lastLines: () => worker.lastLines(5).join('\n') };
        return probeOutcomeOf(event, seen, (text) => this.redact(text));
    }
    async runPing() {
        const outcome = await this.probe();
        const worker = this.worker;
        if (!outcome.ok)
            return { kind: 'not-run', reason: 'the app did not import' };
        const plane = classifyDataPlane(outcome.probe, this.ids);
        if (!plane.ok) {
            worker.cancel();
            return { kind: 'not-run', reason: 'the data plane is not PostgreSQL' };
        }
        return pingThroughDataPlane({
            worker,
            watch: this.watch,
            probe: outcome.probe,
            plane: plane.plane,
            queue: this.ids.queue,
            taskId: this.ids.taskId,
            deadline: this.deadline,
            signal: this.abort.signal,
            keepConnection: (db) => {
                this.brokerConnection = db;
            },
            keepMessages: (sent) => {
                this.sent = sent;
            }
        });
    }
    /** Removes what the run published and its worker stored (its data plane's removeTrace). */
    async removeTrace(db, opts = {}) {
        const cleanup = await removeRunTrace(db, { probe: await this.probePromise, settings: this.settings, ids: this.ids, sent: this.sent }, opts);
        return cleanup.removed ? cleanup : { removed: false, detail: this.redact(cleanup.detail) };
    }
}
function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * What the facts know synchronously: enough for the report a second signal leaves no time to
 * wait for. The facts only a finished run knows (the ping's outcome, the tests, the probe's
 * versions) are absent, not different.
 */
function runSnapshotNow(facts, trace) {
    const snapshot = { pingTask: facts.settings.pingTask, pingTaskId: facts.ids.taskId };
    const worker = facts.workerInfo();
    if (worker)
        snapshot.worker = worker;
    if (facts.probeMs !== undefined)
        snapshot.probeMs = facts.probeMs;
    const readyMs = facts.msSinceStart(facts.watch?.ready?.atMs);
    if (readyMs !== undefined)
        snapshot.workerReadyMs = readyMs;
    if (trace)
        snapshot.trace = trace;
    return snapshot;
}
/**
 * The snapshot of a finished run: what `runSnapshotNow` has, then the tests, the ping's outcome,
 * the probe's versions or import error, and the pings through the app's own queues. A fact that
 * cannot be had leaves out those after it; the report is still written.
 */
async function runSnapshotAtEnd(facts, trace) {
    const snapshot = runSnapshotNow(facts, trace);
    try {
        const tests = await facts.testsReport?.catch(() => undefined);
        if (tests)
            snapshot.tests = tests;
        const outcome = await facts.ping();
        const probe = await facts.probe();
        if (probe.ok)
            snapshot.versions = probe.probe.versions;
        else if (probe.kind === 'import-error')
            snapshot.importError = probe.error;
        snapshot.ping = pingSnapshot(outcome, facts);
        const extras = outcome.kind === 'pong' ? await facts.extras().catch(() => []) : [];
        if (extras.length)
            snapshot.extraPings = extras;
    }
    catch {
        // What was gathered so far stands.
    }
    return snapshot;
}
function pingSnapshot(outcome, facts) {
    switch (outcome.kind) {
        case 'not-run':
            return { published: false };
        case 'pong':
            return {
                published: true,
                status: 'SUCCESS',
                result: outcome.result.display,
                roundTripMs: Math.round(outcome.pongAtMs - outcome.publishedAtMs),
                publishedMs: facts.msSinceStart(outcome.publishedAtMs),
                pongMs: facts.msSinceStart(outcome.pongAtMs)
            };
        case 'task-failed':
            return { published: true, status: 'FAILURE', result: facts.redact(outcome.error) };
        default:
            return { published: true, status: outcome.kind };
    }
}

// One run of the gates, whoever asked for it — the action's main step or the CLI: raw inputs →
// settings → gates → report. What differs between the two (where lines, the summary and the
// report go; how a secret is masked; what "exit now" means) is the host's business. Whatever
// happens — an input error, a cancellation, a crash — the host is handed a report to write.
/** The part of the report's snapshot every path has, with the run's end taken now. */
function ended({ gates, startedAt, startedMs, failOn }) {
    return { gates, startedAt, finishedAt: new Date(), totalMs: Math.round(performance.now() - startedMs), failOn };
}
/**
 * `secrets` is the caller's, so that what it prints and writes (summary, outputs, JSON) goes
 * through the same registry; it masks on the host (core.setSecret on a runner) as it learns.
 */
async function runSession(raw, host, secrets) {
    const base = { gates: ALL_GATES, startedAt: new Date(), startedMs: performance.now(), failOn: 'foundation' };
    // Every report the host writes (summary, outputs, JSON, annotations, pull-request feedback) is
    // cleaned field by field first: the last line of defence for outside text a gate quoted raw.
    const cleanHost = { ...host, finish: (report) => host.finish(cleanReport(report, secrets)) };
    const done = (report, rest) => {
        cleanHost.finish(report);
        return { report, ...rest };
    };
    try {
        // Before anything runs or prints: the DSN given as input, its password, the GitHub token, and
        // every credential in the environment the worker inherits (an app may quote its own DSN in an
        // import error, or print it, before the action learns its URLs from the probe).
        secrets.addExact(raw[Inputs.DatabaseUrl]);
        secrets.add(parseDsn(raw[Inputs.DatabaseUrl] ?? '')?.password);
        secrets.addExact(raw[Inputs.GithubToken]?.trim());
        registerEnvironmentSecrets(process.env, secrets);
        base.failOn = raw[Inputs.FailOn] || 'foundation';
        let settings;
        try {
            settings = await loadSettings(raw);
        }
        catch (err) {
            if (!(err instanceof InputError))
                throw err;
            const message = secrets.clean(err.message);
            const interrupted = { kind: 'input-error', message };
            const report = buildReport({ ...ended(base), results: [], runId: newRunIds().runId, interrupted, inputErrorGate: GATE_OF_INPUT[err.input] });
            return done(report, { failure: message, inputError: true });
        }
        // Only the gates asked for are run and shown; a gate turned off never blocks another.
        const { report, failure } = await runGatesAndReport(settings, secrets, cleanHost, { ...base, gates: selectGates(settings.gates) });
        return { report, settings, failure };
    }
    catch (err) {
        // Last line of defence: a bug must still leave a summary that says so.
        const message = secrets.clean(`the action crashed: ${errorLine(err)}`);
        return done(buildReport({ ...ended(base), results: [], runId: newRunIds().runId, interrupted: { kind: 'crash', message } }), { failure: message });
    }
}
async function runGatesAndReport(settings, secrets, host, base) {
    const facts = new RunFacts(settings, secrets, {
        onWorkerSpawned: (pid, runId) => host.workerSpawned?.(pid, runId),
        // The worker is booted for the gates that run: each says what it needs from it.
        fromWorker: workerNeeds(base.gates)
    });
    const results = [];
    // Every report of this run, the hurried one included, is built from a snapshot of one shape.
    const snapshot = (end, rest) => ({
        ...end,
        results,
        runId: facts.ids.runId,
        failOn: settings.failOn,
        settings,
        ...rest
    });
    let cancelled;
    const stopListening = onCancellation({
        cancel(signal) {
            cancelled = signal;
            host.warning(`Received ${signal}: stopping the worker and writing the summary`);
            facts.cancel();
        },
        hurry(signal) {
            // No time for a warm shutdown: kill the worker group and write what we have, synchronously.
            facts.worker?.killNow();
            const interrupted = { kind: 'cancelled', message: `cancelled by ${signal}` };
            host.finish(buildReport(snapshot(ended(base), { run: runSnapshotNow(facts), interrupted })));
            host.exitNow(`Cancelled by ${signal}`);
        }
    });
    let crash;
    let cleanup;
    facts.start();
    try {
        await runGates(base.gates, settings, facts, {
            onGateStart: (gate) => host.gateStarted?.(gate),
            onGateEnd: (r) => {
                // Cleaned before the host logs its evidence; the report holds the same object.
                scrubStrings(r, (text) => secrets.clean(text));
                results.push(r);
                host.gateEnded(r);
            },
            // Classification is a step of the run, not of the `ci` gate: `junit` with `fail-on: any`
            // must fail a red suite whichever gates run.
            beforeJudges: async (done) => {
                if (settings.junit && !facts.cancelled())
                    await facts.tests(done);
            }
        });
    }
    catch (err) {
        crash = err;
    }
    const gatesMs = Math.round(performance.now() - base.startedMs);
    // A worker is kept for the job only once it proved itself: a broken one is stopped as usual.
    const keep = settings.keepWorker && !cancelled && !crash && results.find((r) => r.id === 'runtime')?.status === 'pass';
    try {
        if (keep) {
            const kept = await facts.keep();
            cleanup = kept.cleanup;
            if (kept.outputFile)
                host.workerKept?.({ outputFile: kept.outputFile, nodeName: facts.ids.nodeName, pid: facts.worker?.pid });
        }
        else
            cleanup = await facts.close(stopGrace(cancelled, results));
    }
    catch (err) {
        crash ??= err;
    }
    const workerStopMs = Math.round(performance.now() - base.startedMs);
    const interrupted = cancelled
        ? { kind: 'cancelled', message: `cancelled by ${cancelled}` }
        : crash
            ? { kind: 'crash', message: secrets.clean(`the action crashed: ${errorLine(crash)}`) }
            : undefined;
    // The run ends here; the facts only a finished run knows are gathered before the build.
    const end = ended(base);
    const run = await runSnapshotAtEnd(facts, cleanup);
    const report = buildReport(snapshot(end, { run, interrupted, gatesMs, workerStopMs }));
    host.finish(report);
    stopListening();
    return { report, failure: interrupted?.message ?? stepFailure(report, settings) };
}
/** The report with every string cleaned (known secrets, credential patterns), in place. */
function cleanReport(report, secrets) {
    return scrubStrings(report, (text) => secrets.clean(text));
}
/** Why the step fails under `fail-on`, or undefined when it passes. */
function stepFailure(report, settings) {
    if (settings.failOn === 'never')
        return undefined;
    const failed = report.gates.filter((g) => g.foundation && g.status === 'fail').map((g) => g.id);
    if (failed.length)
        return `Celery foundation gates failed: ${failed.join(', ')} (see the job summary)`;
    const tests = report.tests;
    if (settings.failOn !== 'any' || !tests)
        return undefined;
    if (tests.failed)
        return `${tests.failed} test${tests.failed > 1 ? 's' : ''} failed: ${tests.verdict}`;
    const unread = tests.files.filter((f) => f.status !== 'ok').length + tests.unmatched.length;
    if (unread || !tests.files.length)
        return `fail-on: any, but ${unread || 'no'} test report${unread === 1 ? '' : 's'} could not be read (see the job summary)`;
    return undefined;
}
/**
 * How long the worker gets for its warm shutdown before it is killed: a worker that answered gets
 * the full bound (Celery 5.7 needs 4–5 s even when idle); one that never worked only needs to
 * release its connections, and a cancelled run must finish inside the runner's 7.5 s window.
 */
function stopGrace(cancelled, results) {
    if (cancelled)
        return CANCEL_GRACE_MS;
    return results.find((r) => r.id === 'runtime')?.status === 'pass' ? HEALTHY_STOP_GRACE_MS : BROKEN_STOP_GRACE_MS;
}

/** Under GitHub's 1 MiB (1,048,576 bytes) per step, with room for whatever else the step adds. */
const DEFAULT_SUMMARY_BUDGET_BYTES = 1_000_000;
const SECTION_SUBJECTS = { all: 'Summary', matrix: 'Matrix', details: 'Details' };
const NOTHING_LEFT_OUT = { detailsOmitted: new Set(), runOmitted: false, remediationOmitted: false };
// The order is the priority: what a reviewer misses least goes first. Each step cuts in one
// part, and only the steps for the parts being rendered run: a cut elsewhere frees no room.
const TRIM_STEPS = [
    { part: 'details', trim: shortenWorkerLog },
    { part: 'details', trim: omitGateDetails },
    { part: 'details', trim: omitting('runOmitted') },
    { part: 'details', trim: shortenTaxonomyTable },
    { part: 'details', trim: omitting('remediationOmitted') },
    { part: 'matrix', trim: truncateOutsideText },
    { part: 'matrix', trim: dropTrailingGates }
];
/**
 * The summary as `content` renders it with the fewest cuts that fit the frame's budget, and a
 * notice of what they left out.
 */
function fitToBudget(summary, frame, content) {
    const blocks = function* (cuts) {
        yield* content(cuts);
        yield* trimNotice(leftOut(summary, cuts), frame);
    };
    const fits = (cuts) => fitsInBytes(textPieces(blocks(cuts)), frame.budgetBytes);
    let cuts = NOTHING_LEFT_OUT;
    const applied = [];
    for (const { part, trim } of TRIM_STEPS) {
        if (fits(cuts))
            break;
        if (!rendersPart(frame.sections, part))
            continue;
        cuts = trim(summary, cuts, fits);
        applied.push(trim);
    }
    // A later cut can free more room than the earlier ones needed to take (a huge traceback
    // makes the whole log go first): give it back, to the most valuable content first.
    for (const trim of applied.slice(0, -1).reverse())
        cuts = trim(summary, cuts, fits);
    return fits(cuts) ? joinBlocks(blocks(cuts)) : keepLeadingBlocks(summary, content, cuts, frame);
}
function frameOf({ budgetBytes = DEFAULT_SUMMARY_BUDGET_BYTES, sections = 'all', limitName }) {
    if (!Number.isFinite(budgetBytes) || budgetBytes < 0) {
        throw new RangeError(`budgetBytes must be a non-negative number of bytes, got ${budgetBytes}`);
    }
    const limit = limitName ?? (budgetBytes === DEFAULT_SUMMARY_BUDGET_BYTES ? "GitHub's 1 MiB limit" : `a budget of ${formatCount$1(budgetBytes)} bytes`);
    return { sections, budgetBytes, subject: SECTION_SUBJECTS[sections], limit };
}
function rendersPart(sections, part) {
    return sections === 'all' || sections === part;
}
/** The text as pieces whose concatenation it is: blocks apart by a blank line, a final newline. */
function* textPieces(blocks) {
    let separator = '';
    for (const block of blocks) {
        for (const line of block) {
            yield separator + line;
            separator = '\n';
        }
        separator = '\n\n';
    }
    if (separator !== '')
        yield '\n';
}
function fitsInBytes(pieces, budgetBytes) {
    let usedBytes = 0;
    for (const piece of pieces) {
        usedBytes += utf8ByteLength(piece);
        if (usedBytes > budgetBytes)
            return false;
    }
    return true;
}
function joinBlocks(blocks) {
    return [...textPieces(blocks)].join('');
}
function shortenWorkerLog({ report }, cuts, fits) {
    const total = report.worker?.logTail.length ?? 0;
    return { ...cuts, logLines: largestFitting(total, (logLines) => fits({ ...cuts, logLines })) ?? 0 };
}
function omitGateDetails({ gates }, cuts, fits) {
    // Smallest first, so keeping the first k of them and omitting the rest drops the largest.
    const bySize = gates
        .flatMap((gate, index) => (gate.hasSection ? [{ index, bytes: gate.sectionBytes }] : []))
        .sort((a, b) => a.bytes - b.bytes)
        .map(({ index }) => index);
    const omittingAllBut = (kept) => ({ ...cuts, detailsOmitted: new Set(bySize.slice(kept)) });
    return omittingAllBut(largestFitting(bySize.length, (kept) => fits(omittingAllBut(kept))) ?? 0);
}
/** The cut that leaves out a whole section, when the summary does not fit with it. */
function omitting(section) {
    return (_summary, cuts, fits) => {
        const kept = { ...cuts, [section]: false };
        return fits(kept) ? kept : { ...cuts, [section]: true };
    };
}
function shortenTaxonomyTable({ tests }, cuts, fits) {
    const rows = tests?.rows.length ?? 0;
    const taxonomyRows = largestFitting(rows, (shown) => fits({ ...cuts, taxonomyRows: shown })) ?? 0;
    return { ...cuts, taxonomyRows: taxonomyRows < rows ? taxonomyRows : undefined };
}
function truncateOutsideText(summary, cuts, fits) {
    const longest = outsideTexts(summary).reduce((most, text) => Math.max(most, utf8ByteLength(text)), 0);
    const outsideTextBytes = largestFitting(longest, (bytes) => fits({ ...cuts, outsideTextBytes: bytes })) ?? 0;
    // Undefined when nothing is cut, so the notice can tell without measuring every text again.
    return { ...cuts, outsideTextBytes: outsideTextBytes < longest ? outsideTextBytes : undefined };
}
function dropTrailingGates({ gates }, cuts, fits) {
    const gatesShown = largestFitting(gates.length, (shown) => fits({ ...cuts, gatesShown: shown })) ?? 0;
    return { ...cuts, gatesShown };
}
/** The texts `outsideTextBytes` caps: every evidence cell and the interruption message. */
function outsideTexts({ report, gates }) {
    return [...gates.map((gate) => gate.cellEvidence), report.interrupted?.message ?? ''];
}
/** The largest n in 0..max for which `fitsWith(n)` holds, given it holds for all smaller n too. */
function largestFitting(max, fitsWith) {
    if (!fitsWith(0))
        return undefined;
    let low = 0;
    let high = max;
    while (low < high) {
        const middle = Math.ceil((low + high) / 2);
        if (fitsWith(middle))
            low = middle;
        else
            high = middle - 1;
    }
    return low;
}
/** The last resort, for budgets too small for even the trimmed summary: whole blocks, in order. */
function keepLeadingBlocks(summary, content, cuts, frame) {
    const notice = trimNotice([...leftOut(summary, cuts), `the rest of the ${frame.subject.toLowerCase()}`], frame);
    const kept = [];
    for (const block of content(cuts)) {
        const lines = [...block];
        if (!fitsInBytes(textPieces([...kept, lines, ...notice]), frame.budgetBytes))
            break;
        kept.push(lines);
    }
    return truncateUtf8(joinBlocks([...kept, ...notice]), frame.budgetBytes);
}
/** What the cuts leave out, one phrase each, for the notice at the end of the summary. */
function leftOut({ report, tests }, cuts) {
    const { worker, gates } = report;
    const phrases = [];
    const logTotal = worker?.logTail.length ?? 0;
    if (cuts.logLines !== undefined && cuts.logLines < logTotal) {
        const fullLog = worker?.logFile === undefined ? '' : ` (full log: ${inlineCode(worker.logFile)})`;
        phrases.push(cuts.logLines === 0 ? `worker log omitted${fullLog}` : `worker log shortened to ${formatCount$1(cuts.logLines)} of ${formatCount$1(logTotal)} lines`);
    }
    if (cuts.detailsOmitted.size > 0) {
        const ids = gates.filter((_gate, index) => cuts.detailsOmitted.has(index)).map((gate) => gate.id);
        phrases.push(`details of ${nameIds(ids, inlineCode)} omitted`);
    }
    if (cuts.runOmitted)
        phrases.push('run section omitted');
    if (cuts.taxonomyRows !== undefined) {
        const rows = tests?.rows.length ?? 0;
        phrases.push(`failure taxonomy table shortened to ${formatCount$1(cuts.taxonomyRows)} of ${countOf(rows, 'row')}`);
    }
    if (cuts.remediationOmitted)
        phrases.push('remediation by category omitted');
    if (cuts.outsideTextBytes !== undefined) {
        phrases.push(`evidence and messages cut to ${formatCount$1(cuts.outsideTextBytes)} bytes each`);
    }
    if (cuts.gatesShown !== undefined && cuts.gatesShown < gates.length) {
        phrases.push(`only the first ${formatCount$1(cuts.gatesShown)} of ${formatCount$1(gates.length)} gates shown`);
    }
    return phrases;
}
function trimNotice(phrases, { subject, limit }) {
    if (phrases.length === 0)
        return [];
    return [[`_${subject} trimmed to fit ${limit}: ${phrases.join('; ')}._`]];
}

/**
 * A report can hold a hundred thousand failing tests. The taxonomy table shows at most this many,
 * foundation ones first, and says how many more there are; the JSON report has them all.
 */
const TAXONOMY_TABLE_ROWS = 100;
/** Failing tests named under each rule in the remediation section. */
const REMEDIATION_EXAMPLES = 3;
/** Rules listed per category in the remediation section (a user's rules file can have many). */
const REMEDIATION_RULES = 10;
/** A remediation (from the user's rules file too) or the tests' verdict is cut beyond this many characters. */
const REMEDIATION_CHARS = 1_000;
/** Globs that matched nothing, and files that could not be read: each list names this many. */
const REPORT_FINDINGS_SHOWN = 20;
const FOUNDATION_PREFIX = 'foundation:';
/** The table's order: what the foundation explains first, then the harness, then the rest. */
function tableGroup(category) {
    return category.startsWith(FOUNDATION_PREFIX) ? 0 : category.startsWith('harness:') ? 1 : 2;
}
/** The gate a foundation category blames, e.g. `runtime`; undefined for the others. */
function blamedGate(category) {
    return category.startsWith(FOUNDATION_PREFIX) ? category.slice(FOUNDATION_PREFIX.length) : undefined;
}
function viewTests(tests) {
    // Each group keeps only as many as the table can show, so the rows are picked in one pass
    // without sorting (or even keeping) the hundred thousand it cannot.
    const groups = [[], [], []];
    const categories = new Map();
    // Many tests share a rule and its remediation: the summary says it once. By category and rule
    // id, then by the remediation text as it is (no key is built from it).
    const rules = new Map();
    for (const entry of tests.taxonomy) {
        const group = groups[tableGroup(entry.category)];
        if (group.length < TAXONOMY_TABLE_ROWS)
            group.push(entry);
        const category = entryOf(categories, entry.category, () => ({ category: entry.category, count: 0, rules: [] }));
        category.count++;
        const sameRule = entryOf(rules, `${entry.category}\n${entry.rule}`, () => new Map());
        const rule = entryOf(sameRule, entry.remediation, () => {
            const added = { rule: entry.rule, remediation: entry.remediation, count: 0, examples: [] };
            category.rules.push(added);
            return added;
        });
        rule.count++;
        if (rule.examples.length < REMEDIATION_EXAMPLES)
            rule.examples.push(entry);
    }
    return {
        tests,
        rows: groups.flat().slice(0, TAXONOMY_TABLE_ROWS),
        categories: [...categories.values()].sort((a, b) => categoryRank(a.category) - categoryRank(b.category))
    };
}
function testsParts(view, gateCount) {
    return {
        verdict: once(() => testsConclusion(view.tests.verdict)),
        reports: once(() => reportLines(view.tests)),
        taxonomyRow: memoize(taxonomyRow),
        violations: once(() => violationsLine(view, gateCount)),
        components: once(() => componentsTable(view.tests)),
        remediation: once(() => remediationSection(view))
    };
}
function* testsBlocks(view, parts, cuts) {
    yield ['### Failure taxonomy'];
    const verdict = parts.verdict();
    if (verdict !== '')
        yield [verdict];
    yield parts.reports();
    const failing = view.tests.failed;
    if (failing === 0) {
        yield ['No test failed or errored.'];
    }
    else {
        const rows = view.rows.slice(0, cuts.taxonomyRows);
        yield lazyTable(['Test', 'Type', 'Gate violated?', 'Root-cause category'], rows, parts.taxonomyRow);
        if (rows.length < failing) {
            yield [
                view.tests.taxonomyOmitted
                    ? `… and ${countOf(failing - rows.length, 'more failing test')} (the first ${formatCount$1(view.tests.taxonomy.length)} are in the JSON report; the rest are only counted).`
                    : `… and ${countOf(failing - rows.length, 'more failing test')} (all of them are in the JSON report and the \`taxonomy\` output).`
            ];
        }
        yield [parts.violations()];
    }
    if (view.tests.components.length > 0) {
        yield ['#### Test vs foundation distinction'];
        yield [parts.components()];
    }
    if (view.categories.length > 0 && !cuts.remediationOmitted)
        yield [parts.remediation()];
}
/** The analysis's closing sentence, as the section's lead: "**Foundation green, test suite red: …**". */
function testsConclusion(verdict) {
    const text = inlineMarkdown(clipCharacters(verdict.charAt(0).toUpperCase() + verdict.slice(1), REMEDIATION_CHARS));
    return text === '' ? '' : `**${text}**`;
}
/** What was read, in one line, then each glob that matched nothing and each file that was no use. */
function reportLines(tests) {
    const { files, totals } = tests;
    const read = files.filter((file) => file.status === 'ok').length;
    const outcomes = [
        `${formatCount$1(totals.passed)} passed`,
        `${formatCount$1(totals.failed)} failed`,
        `${formatCount$1(totals.errored)} errored`,
        `${formatCount$1(totals.skipped)} skipped`,
        ...(totals.xfailed > 0 ? [`${formatCount$1(totals.xfailed)} xfailed`] : []),
        ...(totals.xpassed > 0 ? [`${formatCount$1(totals.xpassed)} xpassed`] : [])
    ];
    const summary = files.length === 0
        ? '**JUnit reports:** no file matched.'
        : `**JUnit reports:** ${formatCount$1(read)} of ${countOf(files.length, 'file')} read, ${countOf(totals.cases, 'test case')}: ${outcomes.join(', ')}.`;
    const findings = [
        ...namedAtMost(tests.unmatched, REPORT_FINDINGS_SHOWN, (pattern) => `- ⚠️ No file matched ${inlineCode(oneLine(pattern))}${lookedIn(tests.searched)}.`, (more) => `- … and ${countOf(more, 'more glob')} that matched no file.`),
        ...namedAtMost(tests.fromWorkspace ?? [], REPORT_FINDINGS_SHOWN, (pattern) => `- ℹ️ ${inlineCode(oneLine(pattern))} matched no file in working-directory; it was resolved from the workspace${tests.searched?.[1] ? ` (${inlineCode(oneLine(tests.searched[1]))})` : ''}.`, (more) => `- … and ${countOf(more, 'more glob')} resolved from the workspace.`),
        ...namedAtMost(files.filter((file) => file.status !== 'ok'), REPORT_FINDINGS_SHOWN, ({ path, status, detail }) => {
            const why = inlineMarkdown(oneLine(detail ?? ''));
            return `- ⚠️ ${inlineCode(oneLine(path))} ${describeReportStatus(status)}${why === '' ? '' : `: ${why}`}.`;
        }, (more) => `- … and ${countOf(more, 'more file')} that could not be used.`)
    ];
    return findings.length === 0 ? [summary] : [summary, '', ...findings];
}
function taxonomyRow(entry) {
    return tableRow([testId(entry), describeFailureType(entry), gateViolated(entry.category), inlineCode(oneLine(entry.category))]);
}
/** `classname::name`, as pytest writes a test's id, in code when that is safe. */
function testId({ classname, name }) {
    return inlineCode(oneLine(classname === '' ? name : `${classname}::${name}`));
}
// A violated gate is red like the gate's own ❌ FAIL in the matrix; a failure the foundation
// does not explain leaves the gates green, and one no rule explains is not attributed at all.
function gateViolated(category) {
    const gate = blamedGate(category);
    if (gate !== undefined)
        return `❌ Yes: ${inlineCode(oneLine(gate))}`;
    return tableGroup(category) === 1 ? '✅ No' : '❔ Unknown';
}
/** "Total foundation gate violations: 1 / 9 foundation gates: `runtime` (5 failing tests)." */
function violationsLine({ categories }, gateCount) {
    // The categories are distinct, and so are the gates they blame.
    const blamed = categories.flatMap(({ category, count }) => {
        const gate = blamedGate(category);
        return gate === undefined ? [] : [`${inlineCode(oneLine(gate))} (${countOf(count, 'failing test')})`];
    });
    const headline = `**Total foundation gate violations: ${formatCount$1(blamed.length)} / ${countOf(gateCount, 'foundation gate')}**`;
    return blamed.length === 0 ? `${headline} — no failing test is attributed to the foundation.` : `${headline}: ${blamed.join(', ')}.`;
}
function componentsTable({ components }) {
    const rows = components.map(({ component, kind, status, evidence }) => [
        `**${escapeTableCell(oneLine(component))}** (${kind === 'tests' ? 'tests' : 'foundation'})`,
        componentBadge(status),
        inlineMarkdown(oneLine(evidence)) || '—'
    ]);
    return markdownTable(['Component', 'Status', 'Evidence'], rows);
}
function remediationSection({ tests, categories }) {
    const failing = tests.taxonomy.length;
    const summary = `Remediation by category (${countOf(failing, 'failing test')} in ${countOf(categories.length, 'category', 'categories')})`;
    const source = tests.rulesFile === undefined ? [] : [`Rules from ${inlineCode(oneLine(tests.rulesFile))} come first, then the shipped ones.`];
    return detailsBlock(escapeHtmlLine(summary), [...source, ...categories.flatMap(categoryRemediation)].join('\n\n'));
}
function categoryRemediation({ category, count, rules }) {
    return [
        `#### ${inlineCode(oneLine(category))}: ${countOf(count, 'failing test')}`,
        ...namedAtMost(rules, REMEDIATION_RULES, (rule) => ruleRemediation(rule, rules.length > 1), (more) => `… and ${countOf(more, 'more rule')} (see the JSON report).`)
    ];
}
function ruleRemediation({ rule, remediation, count, examples }, severalRules) {
    const tally = severalRules ? ` (${countOf(count, 'failing test')})` : '';
    const advice = `Rule ${inlineCode(oneLine(rule))}${tally}: ${inlineMarkdown(clipCharacters(remediation, REMEDIATION_CHARS))}`;
    const named = examples.map((entry) => `- ${testId(entry)}: ${inlineCode(oneLine(entry.evidence)) || '—'}`);
    const more = count - examples.length;
    return [advice, '', ...named, ...(more > 0 ? [`- … and ${countOf(more, 'more failing test')}`] : [])].join('\n');
}
/** ` (looked in `a` and `b`)`: where an unmatched glob was looked for, when the report says. */
function lookedIn(searched) {
    if (!searched?.length)
        return '';
    return ` (looked in ${searched.map((dir) => inlineCode(oneLine(dir))).join(' and ')})`;
}

const SUMMARY_TITLE = 'Celery foundation gates';
/** Points in time, in ms since the run started; listed in the order they happened. */
const TIMING_MILESTONES = [
    ['probeMs', 'App probed'],
    ['workerReadyMs', 'Worker ready'],
    ['pingPublishedMs', 'Ping published'],
    ['pongMs', 'Pong received'],
    ['gatesMs', 'Gates checked'],
    ['workerStopMs', 'Worker stopped']
];
const STOP_DESCRIPTIONS = {
    warm: 'warm shutdown in',
    terminated: 'terminated by SIGTERM in',
    kept: 'kept running for the job (the post step stops it); released in',
    killed: 'killed after',
    'already-exited': 'had already exited; checked in',
    'not-started': 'never started; checked in'
};
/** The job summary (or the part of it `sections` names) in GitHub-flavoured markdown, at most `budgetBytes` of UTF-8. */
/** The job summary (or the part of it `sections` names) in GitHub-flavoured markdown, at most `budgetBytes` of UTF-8. */
function renderSummary(report, options = {}) {
    const frame = frameOf(options);
    const summary = { report, gates: report.gates.map(viewGate) };
    if (report.tests !== undefined)
        summary.tests = viewTests(report.tests);
    const parts = summaryParts(summary);
    return fitToBudget(summary, frame, (cuts) => summaryBlocks(summary, parts, cuts, frame.sections));
}
function viewGate(gate) {
    const { text: cellEvidence, shortened: evidenceShortened } = boundEvidence(gate.evidence);
    const sectionBytes = utf8ByteLength(detailsOf(gate) ?? '') + (evidenceShortened ? utf8ByteLength(gate.evidence) : 0);
    const hasSection = detailsOf(gate) !== undefined || evidenceShortened;
    return { gate, cellEvidence, evidenceShortened, hasSection, sectionBytes };
}
/** The gate's details, unless it has none worth a section. */
function detailsOf(gate) {
    return gate.details !== undefined && gate.details.trim() !== '' ? gate.details : undefined;
}
/** The first `EVIDENCE_CELL_LINES` lines of the evidence, each cut to `EVIDENCE_CELL_LINE_CHARS`. */
function boundEvidence(evidence) {
    const lines = stripControlCharacters(evidence).trim().split('\n');
    const shown = lines.slice(0, EVIDENCE_CELL_LINES).map((line) => clipCharacters(line, EVIDENCE_CELL_LINE_CHARS));
    const hidden = lines.length - EVIDENCE_CELL_LINES;
    if (hidden > 0)
        shown.push(`… ${countOf(hidden, 'more line')}`);
    const text = shown.join('\n');
    return { text, shortened: hidden > 0 || shown.some((line, index) => line !== lines[index]) };
}
function summaryParts({ report, tests }) {
    return {
        // The denominator is the foundation gates of this run: only those can be violated.
        ...(tests === undefined ? {} : { tests: testsParts(tests, report.gates.filter((g) => g.foundation).length) }),
        verdict: once(() => verdictSentence(report)),
        interruption: memoize((messageBytes) => interruptionCallout(report.interrupted, messageBytes)),
        gateRow: memoize((evidenceBytes) => memoize((gate) => gateRow(gate, evidenceBytes))),
        gateDetails: memoize(gateDetailsSection),
        run: once(() => runSection(report))
    };
}
function* summaryBlocks(summary, parts, cuts, sections) {
    if (rendersPart(sections, 'matrix'))
        yield* matrixBlocks(summary, parts, cuts);
    if (rendersPart(sections, 'details'))
        yield* detailBlocks(summary, parts, cuts);
}
/** The head: what a reviewer reads first, and all that a pull-request comment shows. */
function* matrixBlocks({ gates }, parts, cuts) {
    yield [`## ${SUMMARY_TITLE}`];
    yield [parts.verdict()];
    const interruption = parts.interruption(cuts.outsideTextBytes);
    if (interruption !== undefined)
        yield [interruption];
    const shownGates = gates.slice(0, cuts.gatesShown);
    if (shownGates.length > 0) {
        yield lazyTable(['Gate', 'Description', 'Status', 'Evidence'], shownGates, parts.gateRow(cuts.outsideTextBytes));
    }
}
/** Everything after the matrix: the failure taxonomy, each gate's details, the worker log, timings and the run. */
function* detailBlocks({ report, gates, tests }, parts, cuts) {
    if (tests !== undefined && parts.tests !== undefined)
        yield* testsBlocks(tests, parts.tests, cuts);
    for (const [index, gate] of gates.entries()) {
        if (gate.hasSection && !cuts.detailsOmitted.has(index))
            yield [parts.gateDetails(gate)];
    }
    const { worker } = report;
    if (worker !== undefined && worker.logTail.length > 0 && cuts.logLines !== 0) {
        yield [workerLogSection(worker, cuts.logLines)];
    }
    yield [timingsSection(report.timings)];
    if (!cuts.runOmitted)
        yield [parts.run()];
}
function verdictSentence(report) {
    return `**Verdict: ${statusBadge(report.verdict)}** — ${describeGateOutcome(report.gates, inlineCode)}.`;
}
function interruptionCallout(interrupted, maxBytes) {
    if (interrupted === undefined)
        return undefined;
    const message = inlineMarkdown(capText(interrupted.message, maxBytes));
    return `> 🛑 **Run interrupted: ${describeInterruption(interrupted.kind)}.** ${message}`.trimEnd();
}
function gateRow({ gate, cellEvidence }, evidenceBytes) {
    return tableRow([
        `**${escapeTableCell(gate.title)}** ${inlineCode(gate.id)}`,
        inlineMarkdown(gate.description),
        statusCell(gate.status),
        inlineMarkdown(capText(cellEvidence, evidenceBytes)) || '—'
    ]);
}
function gateDetailsSection({ gate, evidenceShortened }) {
    const summary = `${statusBadge(gate.status)} ${escapeHtmlLine(gate.title)} (<code>${escapeHtmlLine(gate.id)}</code>): details`;
    const details = detailsOf(gate);
    const body = !evidenceShortened
        ? [preBlock(details ?? '')]
        : ['Evidence in full (shortened in the table):', preBlock(gate.evidence), ...(details === undefined ? [] : ['Details:', preBlock(details)])];
    // A failure's details are the first thing a reader wants; the rest stays folded.
    return detailsBlock(summary, body.join('\n\n'), { open: gate.status === 'fail' });
}
function workerLogSection(worker, logLines) {
    const lines = logLines === undefined ? worker.logTail : worker.logTail.slice(-logLines);
    return detailsBlock(`Worker log (last ${formatCount$1(lines.length)} lines)`, `${whereIsTheFullLog(worker)}\n\n${preBlock(lines.join('\n'))}`);
}
function whereIsTheFullLog(worker) {
    const size = `${formatCount$1(worker.logBytes)} bytes${worker.logTruncated ? ', cut at its size limit' : ''}`;
    return worker.logFile === undefined ? `No log file was kept (the worker printed ${size}).` : `Full log: ${inlineCode(worker.logFile)} (${size}).`;
}
function timingsSection(timings) {
    const milestones = TIMING_MILESTONES.flatMap(([key, label]) => {
        const ms = timings[key];
        return ms === undefined ? [] : [{ label, ms }];
    });
    // In the order they happened (a ping can be published before the worker is ready); the sort
    // is stable, so equal times keep the order of the list.
    const rows = milestones.sort((a, b) => a.ms - b.ms).map(({ label, ms }) => [label, formatCount$1(ms)]);
    const table = markdownTable(['Milestone', 'ms'], [...rows, ['Total', formatCount$1(timings.totalMs)]]);
    const roundTrip = timings.roundTripMs === undefined ? [] : [`The ping's round trip took ${formatCount$1(timings.roundTripMs)} ms.`];
    return detailsBlock(`Timings (total ${formatCount$1(timings.totalMs)} ms)`, ['Milliseconds since the run started.', table, ...roundTrip].join('\n\n'));
}
function runSection(report) {
    const facts = markdownTable(['Field', 'Value'], presentRows(runFacts(report)));
    const settingRows = Object.entries(report.settings).map(([name, value]) => [inlineCode(name), value === '' ? '_(empty)_' : inlineCode(value)]);
    const settings = settingRows.length === 0 ? [] : [markdownTable(['Input', 'Value'], settingRows)];
    return detailsBlock(`Run <code>${escapeHtmlLine(report.runId)}</code>`, [facts, ...settings].join('\n\n'));
}
function runFacts(report) {
    const { worker, ping, versions } = report;
    return [
        ['Run id', inlineCode(report.runId)],
        ['Tool', escapeTableCell(`${report.tool.name} ${report.tool.version}`)],
        ['Started', escapeTableCell(report.startedAt)],
        ['Finished', escapeTableCell(report.finishedAt)],
        ['Fail on', inlineCode(report.failOn)],
        ['Worker node', optional(worker?.nodeName, inlineCode)],
        ['Queue', optional(worker?.queue, inlineCode)],
        ['Worker pid', optional(worker?.pid, String)],
        ['Worker command', optional(worker?.argv.join(' '), inlineCode)],
        ['Worker exit', optional(worker?.exit, describeExit)],
        ['Worker stop', optional(worker?.stop, (stop) => `${STOP_DESCRIPTIONS[stop.how]} ${formatCount$1(stop.ms)} ms`)],
        ['Ping task', optional(ping?.task, inlineCode)],
        ['Ping task id', optional(ping?.taskId, inlineCode)],
        ['Ping status', optional(ping?.status, escapeTableCell)],
        ['Ping result', optional(ping?.result, inlineCode)],
        ['Ping round trip', optional(ping?.roundTripMs, (ms) => `${formatCount$1(ms)} ms`)],
        ['Broker trace', optional(report.trace, describeTrace)],
        ['Python', optional(versions.python, escapeTableCell)],
        ['Celery', optional(versions.celery, escapeTableCell)],
        ['Kombu', optional(versions.kombu, escapeTableCell)],
        ['SQLAlchemy', optional(versions.sqlalchemy, escapeTableCell)],
        ['Node', escapeTableCell(versions.node)],
        ['Action', escapeTableCell(versions.action)]
    ];
}
function describeExit(exit) {
    const how = exit.signal !== null ? `signal ${escapeTableCell(exit.signal)}` : `code ${exit.code ?? 'unknown'}`;
    return `exited with ${how} after ${formatCount$1(exit.afterMs)} ms`;
}
function describeTrace(trace) {
    // The detail says what was removed or left ("removed the run's ping message…"), so the
    // outcome is given in other words than the detail's own.
    const outcome = trace.removed ? 'cleaned up' : trace.detail.startsWith('removed ') ? 'partly cleaned up' : 'not cleaned up';
    const detail = escapeTableCell(trace.detail);
    return detail === '' ? outcome : `${outcome} — ${detail}`;
}
function optional(value, format) {
    return value === undefined || value === '' ? undefined : format(value);
}
function presentRows(rows) {
    return rows.flatMap(([label, value]) => (value === undefined ? [] : [[label, value]]));
}
/** Cells must already be escaped. */

/** Evidence and messages are cut to this many characters: longer lines wrap into noise. */
const TEXT_WIDTH = 100;
const COLUMN_GAP = '  ';
/**
 * Aligned `Gate  Status  Evidence` lines, then the verdict (and why the run stopped early), then
 * the tests' verdict and their failures by category.
 */
function renderMatrixText(report, options = {}) {
    const style = options.styleStatus ?? ((_status, text) => text);
    const rows = report.gates.map((gate) => [clip(gate.id), statusLabel(gate.status), clip(gate.evidence)]);
    const statuses = [undefined, ...report.gates.map((gate) => gate.status)];
    const matrix = rows.length === 0
        ? []
        : alignColumns([['Gate', 'Status', 'Evidence'], ...rows], (row, column, text) => {
            const status = statuses[row];
            return column === 1 && status !== undefined ? style(status, text) : text;
        });
    const verdict = `Verdict: ${style(report.verdict, statusLabel(report.verdict))} — ${describeGateOutcome(report.gates, clip)}.`;
    const { interrupted } = report;
    const interruption = interrupted === undefined ? [] : [`Interrupted: ${describeInterruption(interrupted.kind)} — ${clip(interrupted.message)}`.trimEnd()];
    const tests = report.tests === undefined ? [] : testsLines(report.tests);
    return [...matrix, verdict, ...interruption, ...tests].join('\n');
}
function testsLines(tests) {
    const counts = Object.entries(tests.byCategory)
        .filter(([, count]) => count !== undefined && count > 0)
        .sort(([a], [b]) => categoryRank(a) - categoryRank(b))
        .map(([category, count]) => `${category} ${count}`);
    const unmatched = tests.unmatched.length;
    const unusable = tests.files.filter((file) => file.status !== 'ok').length;
    const findings = [
        ...(unmatched === 0 ? [] : [`${countOf(unmatched, 'glob')} matched no file`]),
        ...(unusable === 0 ? [] : [`${countOf(unusable, 'file')} could not be used`])
    ];
    return [
        `Tests: ${clip(tests.verdict)}`.trimEnd(),
        ...(counts.length === 0 ? [] : [`Failing tests by category: ${clip(counts.join(', '))}`]),
        ...(findings.length === 0 ? [] : [`Test reports: ${findings.join('; ')}`])
    ];
}
function clip(text) {
    return clipToFirstLine(text, TEXT_WIDTH);
}
/** Pads every column but the last to its widest cell, so the last needs no trailing spaces. */
function alignColumns(rows, decorate = (_row, _column, text) => text) {
    const widths = [];
    for (const row of rows) {
        row.forEach((cell, column) => {
            widths[column] = Math.max(widths[column] ?? 0, displayWidth(cell));
        });
    }
    return rows.map((row, index) => row
        .map((cell, column) => decorate(index, column, column === row.length - 1 ? cell : padToWidth(cell, widths[column] ?? 0)))
        .join(COLUMN_GAP)
        .trimEnd());
}
/**
 * The first line of outside text, without control characters (an ANSI escape would colour or
 * move the cursor in a terminal) and at most `width` characters; `…` marks anything dropped.
 */
function clipToFirstLine(text, width) {
    const [first = '', ...rest] = stripControlCharacters(text).trim().split('\n');
    // Tabs would break the alignment of the columns.
    const line = first.replace(/\s+/g, ' ').trim();
    const characters = [...line];
    if (characters.length <= width && rest.length === 0)
        return line;
    // A whole first line with more after it gets the mark after a space ("ready. …"), so it does
    // not read as a cut word or a typo ("ready.…").
    if (characters.length <= width - 2 && line !== '')
        return `${line} …`;
    return `${characters
        .slice(0, width - 1)
        .join('')
        .trimEnd()}…`;
}
// Code points, not UTF-16 units, so an astral character counts once. Wide CJK characters still
// count as one; evidence is overwhelmingly ASCII and the last column is never padded.
function displayWidth(text) {
    return [...text].length;
}
function padToWidth(text, width) {
    return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

// Facts about the workflow run that the Actions environment gives, shared by the annotations
// (sinks/actions.ts) and the check run (github/feedback.ts).
/**
 * The workflow file of this run, relative to the repository: `GITHUB_WORKFLOW_REF` is
 * `owner/repo/.github/workflows/x.yml@ref`. Undefined when unknown, or when the workflow lives in
 * another repository (a reusable workflow): an annotation there would point at no file of this one.
 */
function workflowFile(env = process.env) {
    const ref = env.GITHUB_WORKFLOW_REF;
    const repo = env.GITHUB_REPOSITORY;
    if (!ref || !repo || !ref.startsWith(`${repo}/`))
        return undefined;
    const file = ref.slice(repo.length + 1).replace(/@[^@]*$/, '');
    return file.startsWith('.github/') ? file : undefined;
}

// Where a finished report goes on a runner: the job summary, the step outputs and a JSON file.
// Writes are synchronous so they also work from a signal handler that must finish before the
// runner kills the process, and everything passes through the secret registry one last time.
/** GitHub shows at most 10 error annotations per step; the rest would be dropped silently. */
const MAX_ERROR_ANNOTATIONS = 10;
/** Lines of the worker's log repeated in the step's log (the summary and the report have more). */
const LOG_TAIL_LINES = 60;
function reportPathFor(runId) {
    return path.join(process.env.RUNNER_TEMP || tmpdir(), 'celery-foundation-gates', runId, 'report.json');
}
/** Writes the JSON report (redacted) where `reportPathFor` says; returns its path. Throws on failure. */
function writeReportFile(report, redact) {
    const reportPath = reportPathFor(report.runId);
    mkdirSync(path.dirname(reportPath), { recursive: true });
    writeFileSync(reportPath, redact(JSON.stringify(report, null, 2)) + '\n');
    return reportPath;
}
class ActionsSink {
    secrets;
    written = false;
    constructor(secrets) {
        this.secrets = secrets;
    }
    write(report) {
        if (this.written)
            return;
        this.written = true;
        const redact = (s) => this.secrets.redact(s);
        const reportPath = reportPathFor(report.runId);
        const problems = [];
        try {
            writeReportFile(report, redact);
        }
        catch (err) {
            problems.push(`report file ${reportPath}: ${err.message}`);
        }
        const summaryFile = process.env.GITHUB_STEP_SUMMARY;
        if (summaryFile) {
            try {
                appendFileSync(summaryFile, redact(renderSummary(report)));
            }
            catch (err) {
                problems.push(`job summary: ${err.message}`);
            }
        }
        try {
            // Every value is redacted before it is cut (a cut must never leave half a secret to slip
            // past the registry), and all of them together stay within OUTPUTS_BUDGET_BYTES.
            const gates = report.gates.map(({ id, title, status, evidence }) => ({ id, title, status, evidence: redact(evidence) }));
            const gatesJson = redact(gatesOutput(gates, GATES_OUTPUT_BUDGET_BYTES));
            const values = [
                [Outputs.Verdict, report.verdict],
                [Outputs.Gates, gatesJson],
                [
                    Outputs.FailedGates,
                    report.gates
                        .filter((g) => g.status === 'fail')
                        .map((g) => g.id)
                        .join(',')
                ],
                [Outputs.Report, reportPath],
                ...(report.tests ? [[Outputs.TestsFailed, String(report.tests.failed)]] : [])
            ];
            for (const [name, value] of values)
                setOutput(name, value);
            if (report.tests) {
                const used = values.reduce((n, [name, v]) => n + githubSize(name) + githubSize(v), 0);
                // Whole entries only, so redacting afterwards cannot meet half a secret.
                const taxonomy = boundedJsonArray(report.tests.taxonomy, Math.max(0, OUTPUTS_BUDGET_BYTES - used));
                setOutput(Outputs.Taxonomy, redact(taxonomy.json));
                if (taxonomy.omitted)
                    warning(`The taxonomy output holds ${taxonomy.kept} of ${report.tests.taxonomy.length} entries (GitHub limits a job's outputs to 1 MB); the report file has ${report.tests.taxonomyOmitted ? `the first ${report.tests.taxonomy.length} of ${report.tests.failed}` : 'them all'}: ${reportPath}`);
            }
        }
        catch (err) {
            problems.push(`step outputs: ${err.message}`);
        }
        // Each sink is independent: one that cannot be written must not cost the others.
        for (const p of problems)
            warning(`Could not write the ${p}`);
    }
}
/** One line per gate as it ends, so the step's log shows progress. */
function logGateLine(result) {
    const first = result.evidence.slice(0, LOG_LINE_MAX_CHARS + 1).split('\n')[0] ?? '';
    const line = first.length > LOG_LINE_MAX_CHARS ? `${first.slice(0, LOG_LINE_MAX_CHARS - 1)}…` : first;
    info(neutralizeCommands(`${statusLabel(result.status).padEnd(7)} ${result.id}: ${line}`));
}
/** The matrix as text and the end of the worker's log, in the step's log. */
function logFinishedRun(report) {
    info('');
    info(renderMatrixText(report));
    const tail = report.worker?.logTail ?? [];
    if (!tail.length)
        return;
    startGroup(`Worker log (last ${Math.min(tail.length, LOG_TAIL_LINES)} lines; full log: ${report.worker?.logFile ?? 'n/a'})`);
    // The worker's output is outside text: a line starting with `::` must not become a workflow
    // command (set an output, add a mask, stop the log …), so the runner is told to ignore them.
    const token = randomUUID();
    info(`::stop-commands::${token}`);
    for (const line of tail.slice(-LOG_TAIL_LINES))
        info(line);
    info(`::${token}::`);
    endGroup();
}
/**
 * One error annotation per failed gate, with its evidence, so a failure shows on the run's
 * overview and — on the workflow file, when the run knows it — in the pull request's files view.
 */
function annotateFailures(report, secrets, env = process.env) {
    const failed = report.gates.filter((g) => g.status === 'fail');
    const file = workflowFile(env);
    const shown = failed.length > MAX_ERROR_ANNOTATIONS ? failed.slice(0, MAX_ERROR_ANNOTATIONS - 1) : failed;
    for (const gate of shown) {
        // Cut here, not by the runner: its cut at 4,096 characters is silent.
        error$1(annotationMessage(secrets.redact(gate.evidence)), {
            title: `Celery foundation gate \`${gate.id}\` failed`,
            ...(file ? { file, startLine: 1 } : {})
        });
    }
    if (shown.length < failed.length) {
        const rest = failed.slice(shown.length).map((g) => g.id);
        error$1(`${rest.length} more gates failed: ${rest.join(', ')} (see the job summary)`, { title: 'More Celery foundation gates failed' });
    }
}
/**
 * The hidden marker that finds this step's pull-request comment again on a rerun: one comment per
 * app and directory, so two gate steps in one workflow (two services) keep one comment each.
 */
function feedbackMarker(settings, env = process.env) {
    const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
    const dir = path.relative(workspace, settings.workingDirectory) || '.';
    return `${TOOL_NAME}:${settings.app}@${dir}`;
}
/** One line of outside text for the log: no control characters, no workflow command. */
function neutralizeCommands(line) {
    return stripControlCharacters(line).replace(/^(\s*)::/, '$1: :');
}

export { ACTION_VERSION as A, BOOTSTRAP_PATH as B, workflowFile as C, DEFAULT_SEQUENCES as D, isFoundationCategory as E, partialRecord as F, CATEGORIES as G, union as H, INPUTS as I, NEVER as N, _enum as _, renderMatrixText as a, runSession as b, annotateFailures as c, ActionsSink as d, logGateLine as e, feedbackMarker as f, qualified as g, grantStatements as h, isSwitch as i, workerEnvironment as j, string as k, logFinishedRun as l, literal as m, record as n, object as o, pgmqGrantScript as p, quoteIdent as q, renderSummary as r, statusLabel as s, array as t, parseSettings as u, quoteGiven as v, writeReportFile as w, InputError as x, describeInterruption as y, describeGateOutcome as z };
