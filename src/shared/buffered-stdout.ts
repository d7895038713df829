import fs from 'node:fs';

/** Lines held when fd 1 does not take them (the master is behind); beyond this they are dropped. */
const MAX_HELD_BYTES = 1024 * 1024;

/**
 * A child's pino destination: lines to fd 1, which the master reads (a pipe),
 * written once `minLength` characters wait (0: at once), on `flushSync()`,
 * and by the caller's timer and exit hook.
 *
 * Not pino.destination: sonic-boom 4's `flushSync()` sleeps 100 ms and retries
 * on every error but EAGAIN, forever, and pino calls it at exit for a buffered
 * stream. A worker whose master was SIGKILLed gets EPIPE on its stdout and
 * would never exit. Here a flush is one pass of `writeSync`: EAGAIN (fd 1 made
 * non-blocking by an app's console.log, and the master behind) keeps the rest
 * for the next flush; any other error drops it. Nothing loops or sleeps.
 */
export class BufferedStdout {
  readonly #minLength: number;
  #pending = '';
  /** Bytes a previous flush could not write (EAGAIN), written first next time. */
  #held: Buffer | null = null;

  constructor(minLength: number) {
    this.#minLength = minLength;
  }

  write(text: string): void {
    this.#pending += text;
    if (this.#pending.length >= this.#minLength) this.flushSync();
  }

  flushSync(): void {
    if (this.#pending === '' && this.#held === null) return;
    const fresh = Buffer.from(this.#pending);
    this.#pending = '';
    let data = this.#held === null ? fresh : Buffer.concat([this.#held, fresh]);
    this.#held = null;
    try {
      while (data.length > 0) data = data.subarray(fs.writeSync(1, data));
    } catch (error) {
      const again = (error as NodeJS.ErrnoException).code === 'EAGAIN';
      if (again && data.length <= MAX_HELD_BYTES) this.#held = data;
    }
  }
}
