import { readlinkSync, readFileSync, readdirSync } from 'node:fs';
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
    DatabaseUrl: 'database-url',
    ExpectedRole: 'expected-role',
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
const GATE_IDS = [
    'import',
    'broker-config',
    'runtime',
    'db-access',
    'rls-role',
    'queues',
    'tasks',
    'logs',
    'dlq',
    'tenant-isolation',
    'ci'
];
const GATE_STATUSES = ['pass', 'fail', 'warn', 'skip'];
/** Environment variable that marks every process of one run, so cleanup kills only its own. */
const RUN_MARKER_ENV = 'CELERY_FOUNDATION_GATES_RUN';
const TOOL_NAME = 'celery-foundation-gates';

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
// Whether any of the above can match: most text has none of these, and renderers escape a lot
// of small strings while fitting the budget, so the common case is one scan instead of five.
const NEEDS_CLEANING = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/;
const NEEDS_INLINE_ESCAPING = /[&<>"'\\`*_[\]|~$@\n]/;
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
    return text
        .replace(ANSI_ESCAPE, '')
        .replace(/\r\n/g, '\n')
        .replace(CONTROL_CHARACTERS, '')
        .replace(BIDI_CONTROLS, '')
        .replace(LONE_SURROGATE, '\ufffd');
}
/** Escapes the five characters that HTML gives meaning to. */
function escapeHtml(text) {
    // Chained native replaces beat one replace with a callback on logs dense with `<` and quotes.
    return text
        .replace(/&/g, '&amp;')
        .replace(/</g, '&lt;')
        .replace(/>/g, '&gt;')
        .replace(/"/g, '&quot;')
        .replace(/'/g, '&#39;');
}
/**
 * Outside text as one line of inline markdown: safe in a table cell, a sentence or inside
 * `<code>`. It can neither end the cell or row, nor open a link, image, emphasis, code span or
 * HTML tag, nor mention anyone. Newlines become `<br>`; surrounding whitespace is dropped.
 */
function escapeTableCell(text) {
    const clean = stripControlCharacters(text).trim();
    if (!NEEDS_INLINE_ESCAPING.test(clean))
        return clean;
    return escapeHtml(clean)
        .replace(MARKDOWN_ACTIVE, '\\$&')
        .replace(MENTION, '@&#8203;')
        .replace(/[ \t]*\n[ \t]*/g, '<br>');
}
/**
 * Outside text for one line of raw HTML, such as a `<summary>`: markdown is not parsed there, so
 * only HTML is escaped, and line breaks are folded because a blank line would end the HTML block.
 */
function escapeHtmlLine(text) {
    return escapeHtml(stripControlCharacters(text).replace(/\s*\n\s*/g, ' ').trim());
}
/** Outside text shown as code: a backtick span when that is safe verbatim, else escaped `<code>`. */
function inlineCode(text) {
    const verbatim = PRINTABLE_ASCII_TRIMMED.test(text) && !CODE_SPAN_UNSAFE.test(text);
    return verbatim ? `\`${text}\`` : `<code>${escapeTableCell(text)}</code>`;
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

export { GATE_IDS as G, Inputs as I, Outputs as O, RUN_MARKER_ENV as R, State as S, TOOL_NAME as T, setFailed as a, setSecret as b, saveState as c, inlineCode as d, detailsBlock as e, escapeHtmlLine as f, getInput as g, escapeTableCell as h, info as i, descendants as j, isAlive as k, localPortsTo as l, error as m, setOutput as n, startGroup as o, preBlock as p, endGroup as q, getState as r, stripControlCharacters as s, truncateUtf8 as t, utf8ByteLength as u, parentOf as v, warning as w, escapeHtml as x, environValue as y, GATE_STATUSES as z };
