import { run } from './main.js'

// Exit explicitly: a socket or timer left behind by user code must not hang the step.
run().then(
  () => process.exit(),
  (err: unknown) => {
    console.error(`::error::Celery foundation gates crashed: ${(err as Error)?.message ?? String(err)}`)
    process.exit(1)
  }
)
