import { runCleanup } from './cleanup.js'

void runCleanup().then(() => process.exit(0))
