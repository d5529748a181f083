import { realpathSync, openSync, constants, fstatSync, closeSync, rmSync, readlinkSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as os from 'os';
import os__default from 'os';
import * as crypto from 'crypto';
import * as fs from 'fs';
import { promises } from 'fs';
import 'path';
import 'string_decoder';
import 'events';
import 'child_process';
import 'assert';
import 'timers';

// Names that other users' workflows depend on live here and nowhere else: inputs, outputs,
// state keys and gate ids are a public contract (see action.yml and README.md).
const Inputs = {
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
};
const Outputs = {
    Verdict: 'verdict',
    Gates: 'gates',
    FailedGates: 'failed-gates',
    Report: 'report',
    TestsFailed: 'tests-failed',
    Taxonomy: 'taxonomy'
};
/** Keys passed from the main step to the post step through GITHUB_STATE. */
const State = {
    WorkerPid: 'worker-pid',
    RunId: 'run-id',
    /** Set when the worker was kept for the job: the file its output goes to. */
    KeptWorkerOutput: 'kept-worker-output'
};
/**
 * Gate ids in matrix order: the seed's five foundation gates, the five that catch what still
 * reaches production, and `ci` — about the pipeline, and last because it sums up the others.
 */
const GATE_IDS = ['import', 'broker-config', 'runtime', 'db-access', 'rls-role', 'queues', 'tasks', 'logs', 'dlq', 'tenant-isolation', 'ci'];
const GATE_STATUSES = ['pass', 'fail', 'warn', 'skip'];
/** Environment variable that marks every process of one run, so cleanup kills only its own. */
const RUN_MARKER_ENV = 'CELERY_FOUNDATION_GATES_RUN';
const TOOL_NAME = 'celery-foundation-gates';

const SQLALCHEMY_URL = new RegExp([
    '^(?<name>[\\w+]+)://',
    '(?:(?<username>[^:/]*)(?::(?<password>[^@]*))?@)?',
    '(?:(?:\\[(?<ipv6host>[^/?]+)\\]|(?<ipv4host>[^/:?]+))?(?::(?<port>[^/?]*))?)?',
    '(?:/(?<database>[^?]*))?',
    '(?:\\?(?<query>.*))?$'
].join(''), 's');
/** Celery's own prefixes: `sqla+`/`sqlalchemy+` for the broker, `db+` for the result backend. */
const CELERY_PREFIXES = ['sqla', 'sqlalchemy', 'db'];
function parseDsn(url) {
    const m = SQLALCHEMY_URL.exec(url.trim());
    if (!m?.groups)
        return undefined;
    const g = m.groups;
    let name = g.name ?? '';
    let prefix;
    const plus = name.indexOf('+');
    if (plus > 0 && CELERY_PREFIXES.includes(name.slice(0, plus).toLowerCase())) {
        prefix = name.slice(0, plus).toLowerCase();
        name = name.slice(plus + 1);
    }
    const port = g.port ? Number(g.port) : undefined;
    return {
        scheme: name.toLowerCase(),
        prefix,
        username: g.username ? safeDecode(g.username) : undefined,
        password: g.password !== undefined ? safeDecode(g.password) : undefined,
        host: g.ipv6host ?? g.ipv4host ?? undefined,
        port: port !== undefined && Number.isInteger(port) ? port : undefined,
        database: g.database ? safeDecode(g.database) : undefined,
        query: parseQuery(g.query)
    };
}
/**
 * Percent-decoding as Python's urllib.parse.unquote does it (SQLAlchemy uses it): valid escapes
 * are decoded as UTF-8, invalid ones (`%zz`) stay as they are — so the action connects with the
 * same password the worker does.
 */
function safeDecode(s) {
    return s.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
}
function parseQuery(q) {
    const out = {};
    if (!q)
        return out;
    for (const pair of q.split('&')) {
        if (!pair)
            continue;
        const eq = pair.indexOf('=');
        const key = safeDecode((eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, ' '));
        out[key] = safeDecode((eq < 0 ? '' : pair.slice(eq + 1)).replace(/\+/g, ' '));
    }
    return out;
}
/** True for SQLAlchemy's PostgreSQL dialect with any driver (`postgresql`, `postgresql+psycopg`). */
function isPostgresScheme(scheme) {
    return scheme === 'postgresql' || scheme.startsWith('postgresql+');
}
/**
 * The URL with its credentials replaced, as the seed shows it: `sqla+postgresql://***@host:5432/db`.
 * Query strings are dropped (they can carry passwords too). Everything up to the last '@' before
 * the query is credentials: a password with an unencoded '@', ':' or '/' must not leak even in
 * part, whatever a URL parser would make of it. Anything without `scheme://` is hidden whole.
 */
function redactDsn(url) {
    const m = /^([\w+.-]+):\/\/(.*)$/s.exec(url.trim());
    if (!m)
        return '***';
    const scheme = m[1].toLowerCase();
    const rest = m[2];
    const query = rest.indexOf('?');
    const beforeQuery = query < 0 ? rest : rest.slice(0, query);
    const at = beforeQuery.lastIndexOf('@');
    // An '@' only after a '?': either a password with an unencoded '?' or an '@' in the query —
    // the two cannot be told apart, so nothing after the scheme is shown.
    if (at < 0 && rest.lastIndexOf('@') > query && query >= 0)
        return `${scheme}://***`;
    const tail = beforeQuery.slice(at + 1);
    const slash = tail.indexOf('/');
    const where = slash < 0 ? tail : tail.slice(0, slash);
    const db = slash < 0 ? '' : tail.slice(slash);
    return `${scheme}://${at >= 0 ? '***@' : ''}${where}${db}`;
}
/** Where a DSN points, for comparing two DSNs without their credentials. */
function dsnTarget(parts) {
    return `${parts.host ?? 'localhost'}:${parts.port ?? 5432}/${parts.database ?? ''}`;
}
/** node-postgres settings for a SQLAlchemy PostgreSQL URL (driver suffix and prefixes ignored). */
function toPgConfig(parts) {
    const q = parts.query;
    const config = {
        user: parts.username ?? q.user,
        password: parts.password ?? q.password,
        host: parts.host ?? q.host,
        port: parts.port ?? (q.port ? Number(q.port) : undefined),
        database: parts.database ?? q.dbname
    };
    // libpq's `options` (e.g. `-c search_path=tenant`) changes what the worker's session sees.
    if (q.options)
        config.options = q.options;
    const sslmode = q.sslmode;
    if (sslmode === 'require' || sslmode === 'no-verify')
        config.ssl = { rejectUnauthorized: false };
    else if (sslmode === 'verify-ca' || sslmode === 'verify-full')
        config.ssl = { rejectUnauthorized: true };
    return config;
}

// Where a run keeps its files (worker log, kept worker's output, report): one folder per run id
// under RUNNER_TEMP (or the system temp directory outside a runner). The post step reads only
// files inside that folder: it derives the folder from the run id and the environment, never from
// a path the state hands it, because the state file was writable by whatever ran in the job.
const RUNS_DIR = 'celery-foundation-gates';
/** What newRunIds() makes: `cfg-` and 8 hex digits. Anything else names no run folder. */
const RUN_ID = /^cfg-[0-9a-f]{8}$/;
/** The folder holding every run's folder. */
function runsRoot(env = process.env) {
    return path.join(env.RUNNER_TEMP || tmpdir(), RUNS_DIR);
}
/**
 * Opens `file` for reading only if it is a regular file whose real path lies inside the real
 * folder of run `runId` — a folder that is itself no symlink (a worker could have replaced it by
 * one). Returns the open descriptor, or undefined when the file is elsewhere, missing or no
 * regular file. Never blocks: a FIFO put in its place is refused, not waited on.
 */
function openInsideRunFolder(runId, file, env = process.env) {
    if (!RUN_ID.test(runId))
        return undefined;
    try {
        const base = realpathSync(env.RUNNER_TEMP || tmpdir());
        const folder = path.join(base, RUNS_DIR, runId);
        if (realpathSync(folder) !== folder)
            return undefined;
        const real = realpathSync(path.resolve(folder, file));
        if (!real.startsWith(folder + path.sep))
            return undefined;
        const fd = openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
        if (!fstatSync(fd).isFile()) {
            closeSync(fd);
            return undefined;
        }
        return fd;
    }
    catch {
        return undefined;
    }
}
/**
 * Removes run `runId`'s folder (worker log, report, connections record) once the run is over and
 * nobody asked to keep it. Only a folder named like a run id, directly under the runs root; a
 * symlink put in its place is removed as a link, never followed. Returns the path removed, or
 * undefined when there was nothing to remove or it could not be.
 */
function removeRunFolder(runId, env = process.env) {
    if (!RUN_ID.test(runId))
        return undefined;
    const folder = path.join(runsRoot(env), runId);
    try {
        rmSync(folder, { recursive: true, force: true, maxRetries: 2 });
        return folder;
    }
    catch {
        return undefined;
    }
}

// Every grace period of a run in one table, each with the reason for its value, and the one place
// that adds them up: how long a run can take, given its `timeout`. The ping's deadline is
// `timeout` itself (run/facts.ts); everything here is what may still come on top of it, or what
// waits inside it for a sign the run already expects.
// ── Stopping the worker (run/session.ts picks one; celery/worker-process.ts applies it) ──────────
/**
 * A worker that answered the ping gets this long for its warm shutdown before it is killed. An
 * idle worker stops in well under 2 s (celery/quickstop.py takes out Celery 5.7's 3–5 s of idle
 * waits); the rest is for tasks of the app the worker took from its queues during the run, which
 * a warm shutdown finishes first. Killing it sooner loses them: on kombu's sqla transport a message
 * the worker took and did not finish is never delivered again.
 */
const HEALTHY_STOP_GRACE_MS = 10_000;
/** A worker that never worked only has to release its connections. */
const BROKEN_STOP_GRACE_MS = 2000;
/** A cancelled run must write its report and stop inside the runner's 7.5 s window (SIGINT → SIGTERM → kill). */
const CANCEL_GRACE_MS = 4000;
/**
 * After SIGKILL to the worker's process group, how long the stop waits for the exit to be seen: a
 * killed process is reaped at once; the bound only keeps a stuck pipe from holding the run.
 */
const KILL_WAIT_MS = 2000;
/**
 * After the worker exits, how long its output streams may take to end (its last lines are the
 * evidence): a pool child that outlives the parent may hold the pipes open.
 */
const OUTPUT_DRAIN_MS = 200;
// ── Waiting for answers inside the run ──────────────────────────────────────────────────────────
/** After the run's pong, how long the app's queues and the probe task may take to answer (capped by the deadline). */
const EXTRAS_GRACE_MS = 5000;
/** How long the worker may take to print its own refusal once the cause is already known. */
const REFUSAL_GRACE_MS = 5000;
/** How long the result backend's database may stay unreachable: a restart takes a second or two. */
const DB_LOST_GRACE_MS = 8000;
/** How long a task the worker logged as succeeded may take to show its result row (one commit). */
const RESULT_ROW_GRACE_MS = 3000;
/** How long the dlq probe's dead-letter row may take to appear after its failure is stored. */
const DLQ_ROW_GRACE_MS = 3000;
/** How long after the pong late log lines about it (the task's success) may take to be printed. */
const LOG_SETTLE_MS = 300;
// ── After the run ───────────────────────────────────────────────────────────────────────────────
/**
 * Pull-request feedback (comment, check run) must not hold the step up: every request together,
 * retries included, gets this long; then the step ends with a warning.
 */
const FEEDBACK_TIMEOUT_MS = 30_000;
/** The post step: the warm shutdown a kept worker (or anything left of the run) gets, as HEALTHY_STOP_GRACE_MS. */
const POST_WARM_SHUTDOWN_MS = HEALTHY_STOP_GRACE_MS;
/** The post step: how long it keeps killing what is left of the run before it gives up. */
const POST_KILL_CONFIRM_MS = 3000;
/**
 * Seconds the command the CLI prints for a kept worker (cli/stop-command.ts) waits for its warm
 * shutdown before it kills the group: the worker may still be running the user's tasks, which
 * finish first (35 real tasks stopped well inside it; test/integration/trust-keep-worker-stop.test.ts).
 */
const KEPT_WORKER_STOP_GRACE_S = 30;

// Which database sessions belong to the worker, read from the operating system rather than from
// the worker's word: the worker's process tree (/proc/<pid>/task/*/children), the TCP sockets its
// processes hold (/proc/<pid>/fd → socket:[inode]) and the local ports of those sockets
// (/proc/<pid>/net/tcp{,6}). PostgreSQL shows the same port as pg_stat_activity.client_port.
// Linux only; elsewhere (or without permission) every function returns an empty answer.
function descendants(rootPid) {
    const seen = new Set();
    const queue = [rootPid];
    while (queue.length) {
        const pid = queue.shift();
        if (seen.has(pid))
            continue;
        seen.add(pid);
        for (const child of childrenOf(pid))
            queue.push(child);
    }
    return [...seen];
}
function childrenOf(pid) {
    const out = [];
    for (const tid of list(`/proc/${pid}/task`)) {
        const text = read(`/proc/${pid}/task/${tid}/children`);
        for (const c of text.split(/\s+/))
            if (c)
                out.push(Number(c));
    }
    return out;
}
function isAlive(pid) {
    const stat = read(`/proc/${pid}/stat`);
    if (!stat)
        return false;
    // Field 3 (after the parenthesised command) is the state; Z is a zombie.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
}
function parentOf(pid) {
    const stat = read(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
}
/** The process group of `pid` (field 5 of /proc/<pid>/stat), if it can be read. */
function processGroupOf(pid) {
    const stat = read(`/proc/${pid}/stat`);
    if (!stat)
        return undefined;
    const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    return Number.isInteger(group) ? group : undefined;
}
/** Local TCP ports of connections from the given processes to `remotePort`. */
function localPortsTo(pids, remotePort) {
    const ports = new Set();
    for (const pid of pids) {
        const inodes = socketInodes(pid);
        if (!inodes.size)
            continue;
        for (const table of ['tcp', 'tcp6']) {
            for (const entry of parseTcpTable(read(`/proc/${pid}/net/${table}`))) {
                if (entry.remotePort === remotePort && inodes.has(entry.inode))
                    ports.add(entry.localPort);
            }
        }
    }
    return [...ports];
}
function socketInodes(pid) {
    const inodes = new Set();
    for (const fd of list(`/proc/${pid}/fd`)) {
        try {
            const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
            if (m)
                inodes.add(m[1]);
        }
        catch {
            // fd closed while we looked.
        }
    }
    return inodes;
}
/** Parses /proc/net/tcp{,6}: `sl local_address rem_address st … uid timeout inode`. */
function parseTcpTable(text) {
    const out = [];
    for (const line of text.split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f.length < 10)
            continue;
        const local = f[1]?.split(':')[1];
        const remote = f[2]?.split(':')[1];
        if (!local || !remote)
            continue;
        out.push({ localPort: parseInt(local, 16), remotePort: parseInt(remote, 16), inode: f[9] });
    }
    return out;
}
/** The value of one variable in a process's environment (same user only). */
function environValue(pid, name) {
    const env = read(`/proc/${pid}/environ`);
    for (const entry of env.split('\0'))
        if (entry.startsWith(`${name}=`))
            return entry.slice(name.length + 1);
    return undefined;
}
function list(dir) {
    try {
        return readdirSync(dir);
    }
    catch {
        return [];
    }
}
function read(file) {
    try {
        return readFileSync(file, 'utf8');
    }
    catch {
        return '';
    }
}

// Signals to one process or to a whole process group, for the two places that stop a worker: the
// main step (celery/worker-process.ts, which spawned it detached, so its PID leads its own group)
// and the post step (cleanup.ts, which finds the run's processes by their marker). A prefork
// worker's pool children share its group, so one signal to the group reaches all of them.
/** Sends `sig` to one process; a process already gone is not an error. */
function signalProcess(pid, sig) {
    try {
        process.kill(pid, sig);
    }
    catch {
        // ESRCH: gone already.
    }
}
/**
 * Sends `sig` to every process in group `group`; returns whether it did. Never to group 0 or 1
 * (`kill(-1)` reaches every process we may signal), nor to our own group: that check reads /proc;
 * without it, both callers still only name groups of workers spawned detached, never ours.
 */
function signalGroup(group, sig) {
    if (group === undefined || !Number.isInteger(group) || group <= 1 || group === processGroupOf(process.pid))
        return false;
    try {
        process.kill(-group, sig);
    }
    catch {
        // ESRCH: the group is empty.
    }
    return true;
}

// Credentials that may appear in outside text the action has no secret for: a traceback's frame
// arguments (`password=…`, `'password': …`), a libpq keyword string (`conninfo='… password=…'`),
// pydantic's `input_value='postgresql://u:p@…'`, kombu's `sqla+postgresql://user:pass@host`.
// Cut wherever such text is kept or shown, on top of the masking of every secret the run knows
// (SecretRegistry.clean). Patterns, not secrets: they also catch a password nobody registered.
//
// Apply to plain text only (a line, an evidence string), never to serialized JSON or markdown: a
// value pattern could swallow a closing quote there. Serialized output is built from values that
// were scrubbed one by one (scrubStrings).
/** Names whose value is a credential (`PGPASSWORD`, `db_password`, `db_pass`, `mysql_pwd`, `api_key`, `auth_token` …). */
const KEY = String.raw `[\w.-]*?(?:password|passwd|passphrase|secret|secret_?key|token|api_?key|access_?key|_pass|_pwd)`;
/** A value after `=` or `:`: quoted whole, or up to the next separator. */
const VALUE = String.raw `(?:[bBrRuU]{1,2}(?=['"]))?(?:'[^'\n]*'|"[^"\n]*")|[^\s,;)}\]&'"]+`;
const PATTERNS = [
    // `'password': 'x'`, `"db_password": "x"` (dict reprs, JSON log records).
    [new RegExp(String.raw `(['"])(${KEY})\1(\s*:\s*)(${VALUE})`, 'gi'), (_m, q, key, sep, value) => `${q}${key}${q}${sep}${hide(value)}`],
    // `password=x`, `PGPASSWORD=x`, `?password=x&…`, `password = 'x y'` (frames, conninfo, env dumps).
    [new RegExp(String.raw `\b(${KEY})(\s*=\s*)(${VALUE})`, 'gi'), (_m, key, sep, value) => `${key}${sep}${hide(value)}`],
    // `Password: x` (YAML, prompts) — only for password-like names: `token:` is too common in prose.
    [/\b([\w.-]*?(?:password|passwd|passphrase):[ \t]+)('[^'\n]*'|"[^"\n]*"|[^\s,;)}\]'"]+)/gi, (_m, head, value) => `${head}${hide(value)}`],
    // `scheme://user:password@host`: everything up to the last '@' of the word is the password (one
    // with an unencoded '@' must not leak in part). The user stays: the broker-config gate compares
    // it with the worker's banner. `**`/`***` (already hidden) and a literal `password` placeholder
    // (an example in our own messages) are left as they are.
    // pydantic cuts a long `input_value` to its first 25 and last 24 characters, `…app:averyLo...internal:5432/db'`:
    // the `@` may be cut away with the rest of the password. A port before the ellipsis is no password.
    [
        /(\/\/)([^\s/@:'"]*):(?!(?:\*+|\d+)(?:\.\.\.|…))([^\s/@'"]*?)(\.\.\.|…)(?=[^\s@]*(?:[\s'"]|$))/gi,
        (_m, slashes, user, _p, dots) => `${slashes}${user}:***${dots}`
    ],
    // The same in a JSON record whose encoder escapes `/` (ujson, PHP, Java): `postgresql:\/\/u:p@h`.
    [/(\/\/|\\\/\\\/)([^\s/\\@:'"]*):(?!(?:\*+|password)@)[^\s]*@/gi, (_m, slashes, user) => `${slashes}${user}:***@`],
    // A percent-encoded URL (a DSN passed as a query parameter): `postgresql%3A%2F%2Fu%3Ap%40h`.
    [/(%2F%2F)([\w.~-]*)%3A(?!(?:\*+|password)%40)[^\s]*%40/gi, (_m, slashes, user) => `${slashes}${user}%3A***%40`]
];
function hide(value) {
    const q = value[0];
    return (q === "'" || q === '"') && value.length >= 2 && value.endsWith(q) ? `${q}***${q}` : '***';
}
/** Cheap pre-check: most lines hold none of these and are returned untouched. */
const MAY_HOLD_CREDENTIALS = /pass|pwd|secret|token|key|@|%40|\/\/\S*(?:\.\.\.|…)/i;
function scrubCredentials(text) {
    if (!MAY_HOLD_CREDENTIALS.test(text))
        return text;
    let safe = text;
    for (const [pattern, replace] of PATTERNS)
        safe = safe.replace(pattern, replace);
    return safe;
}
/**
 * Applies `clean` to every string in a JSON-like value (objects, arrays), in place, and returns
 * the value: the report is scrubbed field by field before it is rendered or serialized.
 */
function scrubStrings(value, clean) {
    const visit = (v) => {
        if (typeof v === 'string')
            return clean(v);
        if (Array.isArray(v)) {
            for (let i = 0; i < v.length; i++)
                v[i] = visit(v[i]);
        }
        else if (v && typeof v === 'object') {
            const o = v;
            for (const k of Object.keys(o))
                o[k] = visit(o[k]);
        }
        return v;
    };
    return visit(value);
}

// Every secret the run learns (passwords in DSNs, whole DSNs) is registered here before anything
// that could contain it is printed. Registration masks it in the runner's log (core.setSecret);
// `redact` is applied to all outside text we write ourselves (summary, report, outputs, log file),
// because masking by the runner does not cover files and is not guaranteed for derived values.
// `clean` adds the credential patterns of util/scrub.ts, for a password nobody registered.
class SecretRegistry {
    mask;
    secrets = new Set();
    ordered = [];
    constructor(mask = () => { }) {
        this.mask = mask;
    }
    /** Registers a secret and the forms it takes in URLs and logs (percent-encoded, decoded). */
    add(secret) {
        if (secret)
            this.register(secretForms(secret));
    }
    /** Registers a value exactly as given (a whole DSN: its encodings would only be noise). */
    addExact(secret) {
        if (secret && secret.length >= 2)
            this.register([secret]);
    }
    register(forms) {
        for (const form of forms) {
            if (this.secrets.has(form))
                continue;
            this.secrets.add(form);
            this.mask(form);
        }
        // Longest first, so a password that contains another secret is replaced whole.
        this.ordered = [...this.secrets].sort((a, b) => b.length - a.length);
    }
    redact(text) {
        let out = text;
        for (const secret of this.ordered) {
            if (out.includes(secret))
                out = out.split(secret).join('***');
        }
        return out;
    }
    /** Outside text, plain (a line, a message): every known secret, then every credential pattern. */
    clean(text) {
        return scrubCredentials(this.redact(text));
    }
    get size() {
        return this.secrets.size;
    }
}
function secretForms(secret) {
    const forms = new Set([secret]);
    const tryAdd = (f) => {
        try {
            const v = f();
            if (v)
                forms.add(v);
        }
        catch {
            // Not every string decodes; the raw form is registered regardless.
        }
    };
    tryAdd(() => encodeURIComponent(secret));
    tryAdd(() => decodeURIComponent(secret));
    // SQLAlchemy's quote_plus style, used when people build URLs in Python.
    tryAdd(() => encodeURIComponent(secret).replace(/%20/g, '+'));
    tryAdd(() => decodeURIComponent(secret.replace(/\+/g, ' ')));
    // Python's own encoders also encode `!'()*` (which encodeURIComponent keeps): urllib's quote
    // (keeps `/`) and quote_plus (what SQLAlchemy 2.1 renders a URL's password with).
    tryAdd(() => pythonQuote(secret, '/'));
    tryAdd(() => pythonQuote(secret, '').replace(/%20/g, '+'));
    // Percent-encoding is case-insensitive, and some encoders write lower-case hex.
    for (const form of [...forms])
        if (/%[0-9A-F]{2}/.test(form))
            forms.add(form.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()));
    // A JSON log record escapes `"`, `\` and controls, and some encoders (ujson) `/` too.
    for (const form of [...forms]) {
        const json = JSON.stringify(form).slice(1, -1);
        forms.add(json);
        forms.add(json.replace(/\//g, '\\/'));
    }
    // Single characters would turn every log into asterisks; they are still redacted as part of
    // the DSN they appear in.
    return [...forms].filter((f) => f.length >= 2);
}
/** urllib.parse.quote: UTF-8, every byte but letters, digits, `_.-~` and `safe` as upper-case `%XX`. */
function pythonQuote(text, safe) {
    let out = '';
    for (const byte of Buffer.from(text, 'utf8')) {
        const c = String.fromCharCode(byte);
        out += /[A-Za-z0-9_.~-]/.test(c) || safe.includes(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
    return out;
}
/** `scheme://…` up to the next blank or quote: each URL of a value (Celery's `;`-separated failover lists too). */
const URL_IN_TEXT = /[a-z][\w+.-]*:\/\/[^\s'"<>]+/gi;
/** libpq keyword strings: `host=db user=app password=s3cret` or `password='s 3'`. */
const KEYWORD_PASSWORD = /\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|[^\s'"&;]+)/gi;
/** Variables whose value is itself a credential (`PGPASSWORD`, `REDIS_PASSWORD`, `API_TOKEN`, `DB_PASS`, `MYSQL_PWD` …; not `PWD`, the current directory). */
const SECRET_NAME = /(?:PASSWORD|PASSWD|PASSPHRASE|SECRET|SECRET_?KEY|TOKEN|API_?KEY|PRIVATE_?KEY|_PASS|_PWD)$/i;
/** Values that cannot be a credential and would turn every `true` of a report into `***`. */
const NOT_A_SECRET = /^(?:true|false|yes|no|on|off|none|null|\d{1,4})$/i;
/**
 * Registers every credential `text` carries: each URL with a password (whole, and its password),
 * each libpq `password=…`. For text the run has not printed yet (an environment value, a
 * bootstrap event), so that the runner masks it and `redact` hides it before it is shown.
 */
function registerSecretsInText(text, registry) {
    if (!text.includes('://') && !/password/i.test(text))
        return;
    for (const match of text.matchAll(URL_IN_TEXT)) {
        // A list joined by ';' or ',' (failover brokers) reads as one word: split where a scheme starts.
        for (const url of match[0].split(/[;,](?=[a-z][\w+.-]*:\/\/)/i))
            registerUrl(url.replace(/[;,.)\]]+$/, ''), registry);
    }
    for (const m of text.matchAll(KEYWORD_PASSWORD)) {
        const value = m[1];
        registry.add(value.startsWith("'") ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value);
    }
}
function registerUrl(url, registry) {
    const parts = parseDsn(url);
    const query = url.indexOf('?');
    // An '@' in the query string is not the end of a password.
    const at = (query < 0 ? url : url.slice(0, query)).lastIndexOf('@');
    const start = url.indexOf('://') + 3;
    const colon = url.indexOf(':', start);
    const userinfo = colon > 0 && colon < at ? url.slice(colon + 1, at) : undefined;
    const passwords = [parts?.password, parts?.query.password, userinfo].filter((p) => !!p && !HIDDEN.test(p));
    if (!passwords.length)
        return;
    registry.addExact(url);
    // `userinfo` is everything between the user's ':' and the last '@': what a reader who does
    // not know SQLAlchemy's grammar would take as the password (one with an unencoded '@').
    for (const p of passwords)
        registry.add(p);
}
/** A password already hidden (Celery prints `**`): registering it would hide markdown's bold. */
const HIDDEN = /^\*+$/;
/**
 * Registers, before anything runs, every secret the worker will be able to print: the whole
 * environment it inherits is scanned (a superset of what it is given), so an app that quotes its
 * DSN in an import error or prints it at start-up leaks nothing, even before it is probed.
 */
function registerEnvironmentSecrets(env, registry) {
    for (const [name, value] of Object.entries(env)) {
        if (!value)
            continue;
        if (SECRET_NAME.test(name) && !NOT_A_SECRET.test(value.trim()))
            registry.add(value);
        registerSecretsInText(value, registry);
    }
}

// We use any as a valid input type
/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Sanitizes an input into a string so it can be passed into issueCommand safely
 * @param input input to sanitize into a string
 */
function toCommandValue(input) {
    if (input === null || input === undefined) {
        return '';
    }
    else if (typeof input === 'string' || input instanceof String) {
        return input;
    }
    return JSON.stringify(input);
}
/**
 *
 * @param annotationProperties
 * @returns The command properties to send with the actual annotation command
 * See IssueCommandProperties: https://github.com/actions/runner/blob/main/src/Runner.Worker/ActionCommandManager.cs#L646
 */
function toCommandProperties(annotationProperties) {
    if (!Object.keys(annotationProperties).length) {
        return {};
    }
    return {
        title: annotationProperties.title,
        file: annotationProperties.file,
        line: annotationProperties.startLine,
        endLine: annotationProperties.endLine,
        col: annotationProperties.startColumn,
        endColumn: annotationProperties.endColumn
    };
}

/**
 * Issues a command to the GitHub Actions runner
 *
 * @param command - The command name to issue
 * @param properties - Additional properties for the command (key-value pairs)
 * @param message - The message to include with the command
 * @remarks
 * This function outputs a specially formatted string to stdout that the Actions
 * runner interprets as a command. These commands can control workflow behavior,
 * set outputs, create annotations, mask values, and more.
 *
 * Command Format:
 *   ::name key=value,key=value::message
 *
 * @example
 * ```typescript
 * // Issue a warning annotation
 * issueCommand('warning', {}, 'This is a warning message');
 * // Output: ::warning::This is a warning message
 *
 * // Set an environment variable
 * issueCommand('set-env', { name: 'MY_VAR' }, 'some value');
 * // Output: ::set-env name=MY_VAR::some value
 *
 * // Add a secret mask
 * issueCommand('add-mask', {}, 'secretValue123');
 * // Output: ::add-mask::secretValue123
 * ```
 *
 * @internal
 * This is an internal utility function that powers the public API functions
 * such as setSecret, warning, error, and exportVariable.
 */
function issueCommand(command, properties, message) {
    const cmd = new Command(command, properties, message);
    process.stdout.write(cmd.toString() + os.EOL);
}
function issue(name, message = '') {
    issueCommand(name, {}, message);
}
const CMD_STRING = '::';
class Command {
    constructor(command, properties, message) {
        if (!command) {
            command = 'missing.command';
        }
        this.command = command;
        this.properties = properties;
        this.message = message;
    }
    toString() {
        let cmdStr = CMD_STRING + this.command;
        if (this.properties && Object.keys(this.properties).length > 0) {
            cmdStr += ' ';
            let first = true;
            for (const key in this.properties) {
                if (this.properties.hasOwnProperty(key)) {
                    const val = this.properties[key];
                    if (val) {
                        if (first) {
                            first = false;
                        }
                        else {
                            cmdStr += ',';
                        }
                        cmdStr += `${key}=${escapeProperty(val)}`;
                    }
                }
            }
        }
        cmdStr += `${CMD_STRING}${escapeData(this.message)}`;
        return cmdStr;
    }
}
function escapeData(s) {
    return toCommandValue(s)
        .replace(/%/g, '%25')
        .replace(/\r/g, '%0D')
        .replace(/\n/g, '%0A');
}
function escapeProperty(s) {
    return toCommandValue(s)
        .replace(/%/g, '%25')
        .replace(/\r/g, '%0D')
        .replace(/\n/g, '%0A')
        .replace(/:/g, '%3A')
        .replace(/,/g, '%2C');
}

// For internal use, subject to change.
// We use any as a valid input type
/* eslint-disable @typescript-eslint/no-explicit-any */
function issueFileCommand(command, message) {
    const filePath = process.env[`GITHUB_${command}`];
    if (!filePath) {
        throw new Error(`Unable to find environment variable for file command ${command}`);
    }
    if (!fs.existsSync(filePath)) {
        throw new Error(`Missing file at path: ${filePath}`);
    }
    fs.appendFileSync(filePath, `${toCommandValue(message)}${os.EOL}`, {
        encoding: 'utf8'
    });
}
function prepareKeyValueMessage(key, value) {
    const delimiter = `ghadelimiter_${crypto.randomUUID()}`;
    const convertedValue = toCommandValue(value);
    // These should realistically never happen, but just in case someone finds a
    // way to exploit uuid generation let's not allow keys or values that contain
    // the delimiter.
    if (key.includes(delimiter)) {
        throw new Error(`Unexpected input: name should not contain the delimiter "${delimiter}"`);
    }
    if (convertedValue.includes(delimiter)) {
        throw new Error(`Unexpected input: value should not contain the delimiter "${delimiter}"`);
    }
    return `${key}<<${delimiter}${os.EOL}${convertedValue}${os.EOL}${delimiter}`;
}

(undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};

(undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};
const { access, appendFile, writeFile } = promises;

(undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};
const { chmod, copyFile, lstat, mkdir, open, readdir, rename, rm, rmdir, stat, symlink, unlink } = fs.promises;
// export const {open} = 'fs'
process.platform === 'win32';
fs.constants.O_RDONLY;

(undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};

(undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};
/* eslint-disable @typescript-eslint/unbound-method */
process.platform === 'win32';

(undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};

(undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};
os__default.platform();
os__default.arch();

(undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};
/**
 * The code to exit an action
 */
var ExitCode;
(function (ExitCode) {
    /**
     * A code indicating that the action was successful
     */
    ExitCode[ExitCode["Success"] = 0] = "Success";
    /**
     * A code indicating that the action was a failure
     */
    ExitCode[ExitCode["Failure"] = 1] = "Failure";
})(ExitCode || (ExitCode = {}));
/**
 * Registers a secret which will get masked from logs
 *
 * @param secret - Value of the secret to be masked
 * @remarks
 * This function instructs the Actions runner to mask the specified value in any
 * logs produced during the workflow run. Once registered, the secret value will
 * be replaced with asterisks (***) whenever it appears in console output, logs,
 * or error messages.
 *
 * This is useful for protecting sensitive information such as:
 * - API keys
 * - Access tokens
 * - Authentication credentials
 * - URL parameters containing signatures (SAS tokens)
 *
 * Note that masking only affects future logs; any previous appearances of the
 * secret in logs before calling this function will remain unmasked.
 *
 * @example
 * ```typescript
 * // Register an API token as a secret
 * const apiToken = "abc123xyz456";
 * setSecret(apiToken);
 *
 * // Now any logs containing this value will show *** instead
 * console.log(`Using token: ${apiToken}`); // Outputs: "Using token: ***"
 * ```
 */
function setSecret(secret) {
    issueCommand('add-mask', {}, secret);
}
/**
 * Gets the value of an input.
 * Unless trimWhitespace is set to false in InputOptions, the value is also trimmed.
 * Returns an empty string if the value is not defined.
 *
 * @param     name     name of the input to get
 * @param     options  optional. See InputOptions.
 * @returns   string
 */
function getInput(name, options) {
    const val = process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] || '';
    return val.trim();
}
/**
 * Sets the value of an output.
 *
 * @param     name     name of the output to set
 * @param     value    value to store. Non-string values will be converted to a string via JSON.stringify
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function setOutput(name, value) {
    const filePath = process.env['GITHUB_OUTPUT'] || '';
    if (filePath) {
        return issueFileCommand('OUTPUT', prepareKeyValueMessage(name, value));
    }
    process.stdout.write(os.EOL);
    issueCommand('set-output', { name }, toCommandValue(value));
}
//-----------------------------------------------------------------------
// Results
//-----------------------------------------------------------------------
/**
 * Sets the action status to failed.
 * When the action exits it will be with an exit code of 1
 * @param message add error issue message
 */
function setFailed(message) {
    process.exitCode = ExitCode.Failure;
    error(message);
}
/**
 * Adds an error issue
 * @param message error issue message. Errors will be converted to string via toString()
 * @param properties optional properties to add to the annotation.
 */
function error(message, properties = {}) {
    issueCommand('error', toCommandProperties(properties), message instanceof Error ? message.toString() : message);
}
/**
 * Adds a warning issue
 * @param message warning issue message. Errors will be converted to string via toString()
 * @param properties optional properties to add to the annotation.
 */
function warning(message, properties = {}) {
    issueCommand('warning', toCommandProperties(properties), message instanceof Error ? message.toString() : message);
}
/**
 * Writes info to log with console.log.
 * @param message info message
 */
function info(message) {
    process.stdout.write(message + os.EOL);
}
/**
 * Begin an output group.
 *
 * Output until the next `groupEnd` will be foldable in this group
 *
 * @param name The name of the output group
 */
function startGroup(name) {
    issue('group', name);
}
/**
 * End an output group.
 */
function endGroup() {
    issue('endgroup');
}
//-----------------------------------------------------------------------
// Wrapper action state
//-----------------------------------------------------------------------
/**
 * Saves state for current action, the state can only be retrieved by this action's post job execution.
 *
 * @param     name     name of the state to store
 * @param     value    value to store. Non-string values will be converted to a string via JSON.stringify
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function saveState(name, value) {
    const filePath = process.env['GITHUB_STATE'] || '';
    if (filePath) {
        return issueFileCommand('STATE', prepareKeyValueMessage(name, value));
    }
    issueCommand('save-state', { name }, toCommandValue(value));
}
/**
 * Gets the value of an state set by this action's main execution.
 *
 * @param     name     name of the state to get
 * @returns   string
 */
function getState(name) {
    return process.env[`STATE_${name}`] || '';
}

// Escaping for outside text (worker logs, exception messages, test names, redacted DSNs) that the
// summary places in GitHub-flavoured markdown. The toolkit's `core.summary` escapes nothing, so
// every renderer passes outside text through one of these before it reaches the summary.
// CSI (colours, cursor moves), OSC (titles, hyperlinks), the other ESC sequences (charset
// switches, cursor saves) and the single-byte 8-bit CSI. Colours mean nothing in markdown, and
// the bytes would otherwise survive as invisible junk.
const ANSI_ESCAPE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b\n]*(?:\u0007|\u001b\\)|\u001b[ -/]*[0-~]|\u009b[0-?]*[ -/]*[@-~]/g;
// C0 and C1 controls except tab and newline. A lone carriage return (a progress bar redrawing
// its line) is dropped rather than made a line break, which would multiply the lines.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// Bidirectional overrides can make a log line read differently from what it says ("Trojan
// Source"); a report that proves something must show the characters in their real order.
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/g;
// A lone surrogate is not text: encoders write it as U+FFFD, so say so up front.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// Characters that start code spans, emphasis, strikethrough, links/images, math or a table cell.
// HTML is escaped first, so `<` is an entity by then; `&`, `#` and `;`, which entities are made
// of, must stay out of this set.
const MARKDOWN_ACTIVE = /[\\`*_[\]|~$]/g;
// GitHub links `@name` and `@org/team` after rendering, so a backslash does not stop it (and a
// mention notifies people). A zero-width space after the `@` does; `user@host` is no mention.
const MENTION = /(?<![\w@])@(?=[A-Za-z0-9])/g;
// GitHub also turns references into links after rendering, and each names an issue, a pull
// request or a commit — `#123`, `GH-123`, `owner/repo#123`, an issue's URL — and leaves a
// "mentioned this" entry in that issue's timeline, in any repository. Outside text must not
// reach into other people's issues through our comment, so a zero-width space goes after the
// `#` (an entity `&#…;` is ours: its `#` follows `&`), after `GH-`, and inside an issue URL's
// scheme. Text inside <pre> and <code> is never linked, so only inline text needs this.
const ISSUE_REFERENCE = /(?<!&)#(?=\d)/g;
const GH_REFERENCE = /\b(gh)-(?=\d)/gi;
const ISSUE_URL = /(https?:|www)(?=(?:\/\/|\.)[^\s<>]*?\/(?:issues|pull|pulls|discussions)\/\d)/gi;
// A run of 7 or more hex digits may be a commit's abbreviated name, and GitHub links it when it
// is one. In a code element it is not linked, and still reads (and copies) the same, so the
// word that holds it (a task id, a node name, a hash) is shown as code, without the punctuation
// that ends a sentence. Plain numbers (no letter) are counts and ports, and are left alone.
const COMMIT_NAME = /\b(?=[0-9]*[a-f])[0-9a-f]{7,}\b/i;
const WORD = /[^\s<>()]+/g;
const WORD_END = /^(.*?)((?:[.,;:!?]|&#39;|&quot;)*)$/s;
// Whether any of the above can match: most text has none of these, and renderers escape a lot
// of small strings while fitting the budget, so the common case is one scan instead of five.
const NEEDS_CLEANING = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/;
const NEEDS_INLINE_ESCAPING = /[&<>"'\\`*_[\]|~$@\n]/;
const MAY_AUTOLINK = /#\d|gh-\d|[0-9a-f]{7}|:\/\/|www\./i;
// Text that can go into a backtick code span verbatim is printable ASCII with no space at either
// end (a span strips it) and none of: a backtick (it ends the span), a pipe (it ends a table
// cell even inside a span), `<`, `>` or `&` (literal in a span, but nothing that reads the raw
// markdown should meet a tag). Ids, task names, node names and redacted DSNs qualify.
const PRINTABLE_ASCII_TRIMMED = /^[!-~](?:[ -~]*[!-~])?$/;
const CODE_SPAN_UNSAFE = /[`|<>&]/;
/** Removes ANSI escapes and control characters (keeping newline and tab); normalises CRLF. */
function stripControlCharacters(text) {
    if (!NEEDS_CLEANING.test(text))
        return text;
    return text.replace(ANSI_ESCAPE, '').replace(/\r\n/g, '\n').replace(CONTROL_CHARACTERS, '').replace(BIDI_CONTROLS, '').replace(LONE_SURROGATE, '\ufffd');
}
/** Escapes the five characters that HTML gives meaning to. */
function escapeHtml(text) {
    // Chained native replaces beat one replace with a callback on logs dense with `<` and quotes.
    return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
/**
 * Outside text as one line of inline markdown: safe in a table cell or a sentence. It can neither
 * end the cell or row, nor open a link, image, emphasis, code span or HTML tag, nor mention
 * anyone, nor reference an issue or a commit. Newlines become `<br>`; surrounding whitespace is
 * dropped.
 */
function escapeTableCell(text) {
    const escaped = escapeInline(text);
    return MAY_AUTOLINK.test(escaped) ? escaped.replace(WORD, codeIfCommitName) : escaped;
}
function codeIfCommitName(word) {
    if (!COMMIT_NAME.test(word))
        return word;
    const [, body = word, end = ''] = WORD_END.exec(word) ?? [];
    return `<code>${body}</code>${end}`;
}
/** `escapeTableCell` for text that a code element will hold, where commit names are not linked. */
function escapeInline(text) {
    const clean = stripControlCharacters(text).trim();
    if (!NEEDS_INLINE_ESCAPING.test(clean) && !MAY_AUTOLINK.test(clean))
        return clean;
    return neutraliseReferences(escapeHtml(clean).replace(MARKDOWN_ACTIVE, '\\$&')).replace(/[ \t]*\n[ \t]*/g, '<br>');
}
/** Mentions and issue references made inert (see MENTION, ISSUE_REFERENCE): escaped HTML in, out. */
function neutraliseReferences(html) {
    return html.replace(MENTION, '@&#8203;').replace(ISSUE_REFERENCE, '#&#8203;').replace(GH_REFERENCE, '$1-&#8203;').replace(ISSUE_URL, '$1&#8203;');
}
/**
 * Outside text for one line of raw HTML, such as a `<summary>`: markdown is not parsed there, so
 * only HTML is escaped, and line breaks are folded because a blank line would end the HTML block.
 */
function escapeHtmlLine(text) {
    // It may be the text of a <summary>, which GitHub scans for mentions and references too.
    return neutraliseReferences(escapeHtml(stripControlCharacters(text)
        .replace(/\s*\n\s*/g, ' ')
        .trim()));
}
/** Outside text shown as code: a backtick span when that is safe verbatim, else escaped `<code>`. */
function inlineCode(text) {
    const verbatim = PRINTABLE_ASCII_TRIMMED.test(text) && !CODE_SPAN_UNSAFE.test(text);
    return verbatim ? `\`${text}\`` : `<code>${escapeInline(text)}</code>`;
}
/**
 * Multi-line outside text (a log, a traceback) as a `<pre>` HTML block. Markdown is not parsed
 * inside it and the block only ends at a literal `</pre>`, which escaping makes impossible, so no
 * input can break out the way a backtick fence can be closed by a line of backticks.
 */
function preBlock(text) {
    const body = escapeHtml(stripControlCharacters(text)).replace(/\n+$/, '');
    return `<pre>\n${body}\n</pre>`;
}
/**
 * A collapsible section. `summaryHtml` is trusted HTML (escape outside parts first); `body` is
 * trusted markdown or HTML. The blank lines let GitHub parse the body as markdown.
 */
function detailsBlock(summaryHtml, body, options = {}) {
    const openTag = options.open === true ? '<details open>' : '<details>';
    return `${openTag}\n<summary>${summaryHtml}</summary>\n\n${body}\n\n</details>`;
}
/** Size of the text once written as UTF-8, which is what GitHub's summary limit counts. */
function utf8ByteLength(text) {
    return Buffer.byteLength(text, 'utf8');
}
function utf8Width(codePoint) {
    if (codePoint < 0x80)
        return 1;
    if (codePoint < 0x800)
        return 2;
    // A lone surrogate is written as U+FFFD, also three bytes.
    if (codePoint < 0x10000)
        return 3;
    return 4;
}
/**
 * The longest prefix of `text` that fits in `maxBytes` of UTF-8. It cuts between code points
 * only, so it never splits a multi-byte character or a surrogate pair.
 */
function truncateUtf8(text, maxBytes) {
    if (utf8ByteLength(text) <= maxBytes)
        return text;
    let usedBytes = 0;
    let end = 0;
    while (end < text.length) {
        const codePoint = text.codePointAt(end) ?? 0;
        const width = utf8Width(codePoint);
        if (usedBytes + width > maxBytes)
            break;
        usedBytes += width;
        end += codePoint > 0xffff ? 2 : 1;
    }
    return text.slice(0, end);
}

// The report's formatting kit: counts, clipping, tables and inline markdown that every renderer
// of the report shares (the job summary and its sections, the pull-request comment, the check
// run, the post step's summary). Escaping of outside text is escape.ts's; this builds on it.
/**
 * Evidence is meant to be a few short lines; a gate that puts a log line or a list in it would
 * make its matrix row tower over the others. The matrix shows at most this many lines of this
 * many characters, and the gate's details section then shows the evidence in full.
 */
const EVIDENCE_CELL_LINES = 6;
const EVIDENCE_CELL_LINE_CHARS = 200;
/** UTF-16 units of outside text read for one bounded line: room for escapes the line drops. */
const ONE_LINE_READ = EVIDENCE_CELL_LINE_CHARS * 8;
/** At most `maxCharacters` code points of `text`; `…` replaces what is cut. */
function clipCharacters(text, maxCharacters) {
    if (sliceEnd(text, maxCharacters) === text.length)
        return text;
    return `${text.slice(0, sliceEnd(text, maxCharacters - 1)).trimEnd()}…`;
}
/** The UTF-16 index after the first `characters` code points of `text`. */
function sliceEnd(text, characters) {
    let end = 0;
    for (let count = 0; count < characters && end < text.length; count++) {
        end += (text.codePointAt(end) ?? 0) > 0xffff ? 2 : 1;
    }
    return end;
}
/**
 * Outside text as one line of at most `EVIDENCE_CELL_LINE_CHARS` (for an id, a path, an evidence
 * line), line breaks folded. Only a prefix is read, so a megabyte-long name costs no more than a
 * short one.
 */
function oneLine(text) {
    const read = text.length > ONE_LINE_READ ? text.slice(0, ONE_LINE_READ) : text;
    const line = stripControlCharacters(read)
        .replace(/\s*\n\s*/g, ' ')
        .trim();
    const clipped = clipCharacters(line, EVIDENCE_CELL_LINE_CHARS);
    // What escapes and control characters took from the prefix read can leave it short of the
    // limit: it is still cut, and says so.
    return read !== text && clipped === line ? `${line}…` : clipped;
}
/**
 * `9990` → `9,990`, rounded to a whole number first. (Not `toLocaleString`, which
 * util/bounded.ts uses for a few notices: fitting a budget formats counts many thousand times.)
 */
function formatCount(value) {
    return String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
/** "1 failing test", "2,000 failing tests". */
function countOf(count, singular, plural = `${singular}s`) {
    return `${formatCount(count)} ${count === 1 ? singular : plural}`;
}
/** The text cut to `maxBytes` of UTF-8 (`…` marks the cut); all of it when undefined. */
function capText(text, maxBytes) {
    return maxBytes === undefined || utf8ByteLength(text) <= maxBytes ? text : `${truncateUtf8(text, maxBytes)}…`;
}
// Code spans: a backtick, then at least one character that is neither a backtick nor a line
// break and not only spaces, then a backtick.
const CODE_SPAN = /(`[^`\n]*[^`\s][^`\n]*`)/;
/**
 * Outside text as one line of inline markdown, like `escapeTableCell`, except that `code` spans
 * (which gates use for ids, inputs and module names) stay code: each is shown with `inlineCode`,
 * which keeps it verbatim only when that is safe, and everything around it is escaped.
 */
function inlineMarkdown(text) {
    const pieces = stripControlCharacters(text).trim().split(CODE_SPAN);
    if (pieces.length === 1)
        return escapeTableCell(pieces[0] ?? '');
    return pieces.map((piece, index) => (index % 2 === 1 ? inlineCode(piece.slice(1, -1).trim()) : escapeKeepingEdges(piece))).join('');
}
/** `escapeTableCell` without the trim: the space next to a code span is part of the sentence. */
function escapeKeepingEdges(text) {
    const [, leading = '', body = '', trailing = ''] = /^(\s*)([\s\S]*?)(\s*)$/.exec(text) ?? [];
    const edge = (space) => (space === '' ? '' : space.includes('\n') ? '<br>' : ' ');
    return `${edge(leading)}${escapeTableCell(body)}${edge(trailing)}`;
}
/** The first `max` items as lines, then one line saying how many more there are. */
function namedAtMost(items, max, line, more) {
    const lines = items.slice(0, max).map(line);
    return items.length > max ? [...lines, more(items.length - max)] : lines;
}
/** Cells must already be escaped. */
function markdownTable(headers, rows) {
    return [...tableHeader(headers), ...rows.map(tableRow)].join('\n');
}
/** A table whose rows are rendered only as far as the reader of the lines gets. */
function* lazyTable(headers, items, row) {
    yield* tableHeader(headers);
    for (const item of items)
        yield row(item);
}
function tableHeader(headers) {
    return [tableRow(headers), tableRow(headers.map(() => '---'))];
}
function tableRow(cells) {
    return `| ${cells.join(' | ')} |`;
}
/** The value, computed on the first call only. */
function once(compute) {
    let result;
    return () => (result ??= { value: compute() }).value;
}
/** The value for each key, computed on its first call only. */
function memoize(compute) {
    const cache = new Map();
    return (key) => entryOf(cache, key, () => ({ value: compute(key) })).value;
}
/** The map's value for the key, made and added first if there is none. */
function entryOf(map, key, make) {
    let value = map.get(key);
    if (value === undefined) {
        value = make();
        map.set(key, value);
    }
    return value;
}

export { markdownTable as $, scrubStrings as A, BROKEN_STOP_GRACE_MS as B, CANCEL_GRACE_MS as C, DLQ_ROW_GRACE_MS as D, EXTRAS_GRACE_MS as E, formatCount as F, GATE_IDS as G, HEALTHY_STOP_GRACE_MS as H, Inputs as I, utf8ByteLength as J, KEPT_WORKER_STOP_GRACE_S as K, LOG_SETTLE_MS as L, truncateUtf8 as M, inlineCode as N, OUTPUT_DRAIN_MS as O, countOf as P, entryOf as Q, RUN_MARKER_ENV as R, SecretRegistry as S, TOOL_NAME as T, once as U, memoize as V, oneLine as W, detailsBlock as X, escapeHtmlLine as Y, escapeTableCell as Z, inlineMarkdown as _, scrubCredentials as a, tableRow as a0, namedAtMost as a1, clipCharacters as a2, lazyTable as a3, EVIDENCE_CELL_LINES as a4, EVIDENCE_CELL_LINE_CHARS as a5, capText as a6, preBlock as a7, error as a8, Outputs as a9, setOutput as aa, startGroup as ab, endGroup as ac, getState as ad, POST_WARM_SHUTDOWN_MS as ae, parentOf as af, signalProcess as ag, processGroupOf as ah, openInsideRunFolder as ai, environValue as aj, POST_KILL_CONFIRM_MS as ak, FEEDBACK_TIMEOUT_MS as al, GATE_STATUSES as am, runsRoot as b, setFailed as c, setSecret as d, saveState as e, State as f, getInput as g, redactDsn as h, info as i, isPostgresScheme as j, dsnTarget as k, localPortsTo as l, registerSecretsInText as m, KILL_WAIT_MS as n, signalGroup as o, parseDsn as p, DB_LOST_GRACE_MS as q, removeRunFolder as r, stripControlCharacters as s, toPgConfig as t, RESULT_ROW_GRACE_MS as u, REFUSAL_GRACE_MS as v, warning as w, descendants as x, isAlive as y, registerEnvironmentSecrets as z };
