import { runCli } from './cli/program.js'

// Exit explicitly: a socket or timer left behind by user code must not keep the terminal waiting.
runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`celery-foundation-gates crashed: ${(err as Error)?.message ?? String(err)}`)
    process.exit(1)
  }
)
