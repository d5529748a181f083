// Follows a file as it grows — what a kept worker (keep-worker) writes: a pipe would break when
// this process exits, a file does not.
import { closeSync, openSync, readSync } from 'node:fs'
import { StringDecoder } from 'node:string_decoder'

const POLL_MS = 25
const READ_BYTES = 256 * 1024

/**
 * Reads what was appended to `file` every `pollMs` and hands it on as text (a UTF-8 character
 * split across two reads is held until it is whole). A file not there yet is waited for. Returns a
 * function that stops following.
 */
export function tailFile(file: string, onChunk: (text: string) => void, pollMs = POLL_MS): () => void {
  let offset = 0
  let busy = false
  const decoder = new StringDecoder('utf8')
  const buffer = Buffer.alloc(READ_BYTES)
  const timer = setInterval(() => {
    if (busy) return
    busy = true
    try {
      const fd = openSync(file, 'r')
      try {
        let n: number
        while ((n = readSync(fd, buffer, 0, buffer.length, offset)) > 0) {
          offset += n
          onChunk(decoder.write(buffer.subarray(0, n)))
        }
      } finally {
        closeSync(fd)
      }
    } catch {
      // Not there yet, or gone: try again next time.
    } finally {
      busy = false
    }
  }, pollMs)
  timer.unref()
  return () => clearInterval(timer)
}
