/**
 * Splits a byte stream into newline-terminated lines, refusing a line longer
 * than `maxBytes` before it is buffered whole (readline has no such bound, so a
 * peer could make us hold any amount of memory).
 */
export class LineReader {
  readonly #maxBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Returns the complete lines in `chunk` (without their newline), or 'too-large'. */
  push(chunk: Buffer): string[] | 'too-large' {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (this.#pendingBytes + nl - start > this.#maxBytes) return 'too-large';
      this.#pending.push(chunk.subarray(start, nl));
      lines.push(Buffer.concat(this.#pending).toString('utf8'));
      this.#pending = [];
      this.#pendingBytes = 0;
      start = nl + 1;
    }
    const rest = chunk.length - start;
    if (this.#pendingBytes + rest > this.#maxBytes) return 'too-large';
    if (rest > 0) {
      this.#pending.push(chunk.subarray(start));
      this.#pendingBytes += rest;
    }
    return lines;
  }
}
