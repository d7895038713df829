import fs from 'node:fs';

/** Bytes held when the target does not take them (fd 1 and the master behind); beyond this they are dropped. */
const MAX_HELD_BYTES = 1024 * 1024;
/** How soon held bytes are tried again when nothing else flushes. */
const RETRY_MS = 10;

/**
 * A child's pino destination: whole lines to fd 1, which the master reads (a
 * pipe), or, once `redirect` names one, appended to a log file directly (the
 * master's --log-dir file; O_APPEND keeps each write whole beside the other
 * writers'). Written when the next line would not fit in `size` bytes (0: at
 * once), on `flushSync()`, and by the caller's timer and exit hook.
 *
 * Not pino.destination: sonic-boom 4's `flushSync()` sleeps 100 ms and retries
 * on every error but EAGAIN, forever, and pino calls it at exit for a buffered
 * stream. A worker whose master was SIGKILLed gets EPIPE on its stdout and
 * would never exit. Here a flush is one pass of `writeSync`: EAGAIN (fd 1
 * non-blocking and the master behind) keeps the rest, tried again soon; any
 * other error drops it and counts the lines. Nothing loops or sleeps.
 */
export class BufferedLines {
  /**
   * Lines waiting, copied into one buffer made once (null when unbuffered):
   * no string is joined and no buffer is made per flush, which at request
   * rate was garbage for the collector.
   */
  readonly #buffer: Buffer | null;
  #used = 0;
  /** Bytes a previous flush could not write (EAGAIN), written first next time. */
  #held: Buffer | null = null;
  /** Set while held bytes wait for the reader to make room. */
  #retry: NodeJS.Timeout | null = null;
  /** Where lines go: fd 1, or a log file opened for appending. */
  #fd = 1;
  /** Lines lost to write errors (a full disk, a file that cannot be opened). */
  dropped = 0;
  /** The code of the first write error (ENOSPC...). */
  error: string | undefined;

  /** `size`: bytes gathered before a write (0: each line is written at once). */
  constructor(size: number) {
    this.#buffer = size > 0 ? Buffer.allocUnsafe(size) : null;
  }

  write(text: string): void {
    const buffer = this.#buffer;
    // A UTF-16 unit is at most 3 bytes of UTF-8: a line that might not fit is written after what waits.
    if (buffer === null || text.length * 3 > buffer.length) {
      this.flushSync();
      const data = Buffer.from(text);
      // Still held back (EAGAIN): it waits behind what is held, in order.
      if (this.#held === null) this.#writeOut(data, true);
      else this.#hold(Buffer.concat([this.#held, data]));
      return;
    }
    if (this.#used + text.length * 3 > buffer.length) this.flushSync();
    this.#used += buffer.write(text, this.#used);
  }

  /**
   * From now on, lines are appended to `file` (null: back to fd 1). What is
   * pending goes to the old target first. Throws if the file cannot be opened;
   * lines then keep going where they went.
   */
  redirect(file: string | null): void {
    const fd = file === null ? 1 : fs.openSync(file, 'a');
    this.flushSync();
    const old = this.#fd;
    this.#fd = fd;
    if (old !== 1) fs.closeSync(old);
  }

  flushSync(): void {
    if (this.#used === 0 && this.#held === null) return;
    const waiting = this.#buffer === null ? null : this.#buffer.subarray(0, this.#used);
    this.#used = 0;
    // The buffer is reused: what cannot be written now must be copied out of it.
    if (this.#held !== null) this.#writeOut(waiting === null || waiting.length === 0 ? this.#held : Buffer.concat([this.#held, waiting]), true);
    else if (waiting !== null) this.#writeOut(waiting);
  }

  /** `owned`: `data` is not the reusable buffer, so it can be held as it is. */
  #writeOut(data: Buffer, owned = false): void {
    this.#held = null;
    try {
      while (data.length > 0) data = data.subarray(fs.writeSync(this.#fd, data));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') this.#hold(owned || data.buffer !== this.#buffer?.buffer ? data : Buffer.from(data));
      else this.#drop(data, error);
    }
  }

  /** Keeps `data` to be written first by a later flush (the reader is behind), up to MAX_HELD_BYTES. */
  #hold(data: Buffer): void {
    if (data.length > MAX_HELD_BYTES) {
      this.#held = null;
      this.#drop(data, Object.assign(new Error('held lines past the limit'), { code: 'EAGAIN' }));
      return;
    }
    this.#held = data;
    this.#retry ??= setTimeout(() => {
      this.#retry = null;
      this.flushSync();
    }, RETRY_MS).unref();
  }

  #drop(data: Buffer, error: unknown): void {
    this.dropped += countLines(data);
    this.error ??= (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

function countLines(data: Buffer): number {
  let n = 0;
  for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, i + 1)) n++;
  return n;
}
