// Splits a stream of text into lines, for both ways the worker's output arrives: its pipes and
// the file a kept worker writes to. Bounded: a runaway line without a newline is handed on in
// pieces rather than grown without limit.

export class LineSplitter {
  private pending = ''

  /** `maxPending`: characters held without a newline before they are handed on as one line. */
  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxPending: number
  ) {}

  push(chunk: string): void {
    this.pending += chunk
    let start = 0
    let nl: number
    while ((nl = this.pending.indexOf('\n', start)) >= 0) {
      this.onLine(this.pending.slice(start, nl))
      start = nl + 1
    }
    this.pending = this.pending.slice(start)
    if (this.pending.length > this.maxPending) this.flush()
  }

  /** Hands on what is left without a newline (the end of a stream). */
  flush(): void {
    if (!this.pending) return
    const rest = this.pending
    this.pending = ''
    this.onLine(rest)
  }
}
