// Cancellation as the runner does it: SIGINT, then SIGTERM 7.5 s later, then SIGKILL 2.5 s after
// that. The first signal asks the run to wind down (stop the worker warm, write the summary);
// a second one means there is no time left: kill the worker and write what we have, now.
export interface CancellationHandlers {
  cancel(signal: NodeJS.Signals): void
  hurry(signal: NodeJS.Signals): void
}

export function onCancellation(handlers: CancellationHandlers): () => void {
  let cancelling = false
  const listener = (signal: NodeJS.Signals): void => {
    if (!cancelling) {
      cancelling = true
      handlers.cancel(signal)
      // SIGTERM alone (no SIGINT first) leaves ~2.5 s: do not wait for a warm shutdown.
      if (signal === 'SIGTERM') handlers.hurry(signal)
      return
    }
    handlers.hurry(signal)
  }
  process.on('SIGINT', listener)
  process.on('SIGTERM', listener)
  return () => {
    process.off('SIGINT', listener)
    process.off('SIGTERM', listener)
  }
}
