import { createRequire } from 'node:module';
import type pino from 'pino';
import { WriteFailureNotice } from './write-failures.js';

/**
 * Most bytes an output holds that its target has not taken yet (a failing
 * disk, a terminal that does not read). Past it, new lines are dropped and
 * counted: the master's memory stays bounded whatever happens to its output.
 */
export const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;

/**
 * A sonic-boom stream (what pino.destination and pino-roll return) opened with
 * `contentMode: 'buffer'`: it takes Buffers, and it sets `file` on each open
 * (rotation, reopen); its types leave both out. Buffers, because in its default
 * string mode it encodes each string twice more (to write it, then to account
 * for what was written), the master's largest cost per line when measured.
 */
export type Destination = Omit<ReturnType<typeof pino.destination>, 'write'> & { write(data: Buffer): boolean; readonly file: string | null };

/** What every log output gives sonic-boom besides its target. */
export const DESTINATION_OPTIONS = { sync: false, contentMode: 'buffer', maxLength: MAX_BACKLOG_BYTES } as const;

/**
 * The sonic-boom class pino writes with, loaded from pino's own location.
 * Not pino.destination(): that one registers an exit hook that calls
 * `flushSync()`, which in sonic-boom 4 retries ENOSPC or EPIPE forever, and
 * on EPIPE it silently turns `write` into a no-op (no drop counted).
 */
const SonicBoom = createRequire(createRequire(import.meta.url).resolve('pino'))('sonic-boom') as new (
  options: typeof DESTINATION_OPTIONS & ({ fd: number } | { dest: string; mkdir: boolean }),
) => Destination;

/** A sonic-boom stream with DESTINATION_OPTIONS, to a file descriptor or a file (appended to). */
export function openDestination(target: { fd: number } | { dest: string; mkdir: boolean }): Destination {
  return new SonicBoom({ ...DESTINATION_OPTIONS, ...target });
}

/**
 * Where the merged log goes (stdout or the current log file), with the count
 * of lines the target took (`written`) and of lines lost (`dropped`).
 *
 * How sonic-boom (async mode) fails, which this relies on: a write error other
 * than EAGAIN is emitted as 'error' (it would throw without a listener) and
 * the failed data stays at the head of its buffer, tried again with the next
 * write; new data queues behind it until `maxLength`, past which `write()`
 * emits 'drop' and discards it. So a transient failure loses nothing, a lasting
 * one loses what comes after the first MAX_BACKLOG_BYTES, and the master never
 * blocks or throws. EAGAIN (a full non-blocking pipe) is retried after 100 ms.
 * Its `flushSync()` is never used: on ENOSPC it sleeps and retries forever.
 */
export class LogOutput {
  readonly #dest: Destination;
  readonly #notice: WriteFailureNotice;
  /** Batches handed over and not yet written: where each ends in the byte stream, and its lines. */
  readonly #unwritten: { end: number; lines: number }[] = [];
  #accepted = 0;
  #flushed = 0;
  #refused = false;
  #closed: Promise<void> | null = null;
  /** `settled()` callers waiting for the batches handed over to be written. */
  #waiting: (() => void)[] = [];
  written = 0;
  dropped = 0;

  /** `name`: what warnings call the target until a file is open ('stdout', a log directory). */
  constructor(dest: Destination, name: string) {
    this.#dest = dest;
    this.#notice = new WriteFailureNotice(() => dest.file ?? name);
    dest.on('write', (bytes: number) => this.#onWritten(bytes));
    dest.on('error', (error: NodeJS.ErrnoException) => this.#notice.failed(error.code ?? error.message, this.dropped));
    dest.on('drop', () => (this.#refused = true));
  }

  /** The file written now, or null for stdout. */
  get file(): string | null {
    return this.#dest.file;
  }

  /** Hands over `text` (`lines` whole lines, each ending in a newline). */
  write(text: string | Buffer, lines: number): void {
    const data = typeof text === 'string' ? Buffer.from(text) : text;
    this.#refused = false;
    try {
      this.#dest.write(data);
    } catch {
      this.#refused = true; // closed (the master is exiting)
    }
    if (this.#refused) {
      this.dropped += lines;
      this.#notice.failed('backlog full', this.dropped);
      return;
    }
    this.#accepted += data.length;
    this.#unwritten.push({ end: this.#accepted, lines });
  }

  /** Another writer of the same target (a worker appending to the file) lost `dropped` lines in all. */
  othersFailed(reason: string, dropped: number): void {
    this.#notice.failed(reason, this.dropped + dropped);
  }

  /**
   * Resolves once every batch handed over so far is written (or after
   * `timeoutMs`, if the target is failing): a reader of the file then sees them.
   */
  settled(timeoutMs = 1000): Promise<void> {
    if (this.#unwritten.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#waiting.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Opens the file again by its name (after logrotate moved it away); nothing for stdout. */
  reopen(): void {
    if (this.#dest.file === null) return;
    try {
      this.#dest.reopen();
    } catch (error) {
      this.#notice.failed(`reopen: ${(error as Error).message}`, this.dropped);
    }
  }

  /**
   * Writes what is held and closes (stdout itself stays open). Whatever the
   * target has not taken within `timeoutMs` (a full disk) is counted as dropped.
   */
  close(timeoutMs: number): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        for (const batch of this.#unwritten.splice(0)) this.dropped += batch.lines;
        resolve();
      };
      const timer = setTimeout(() => {
        this.#dest.destroy();
        done();
      }, timeoutMs);
      this.#dest.once('close', done);
      try {
        this.#dest.end();
      } catch {
        done(); // already destroyed
      }
    });
    return this.#closed;
  }

  #onWritten(bytes: number): void {
    this.#flushed += bytes;
    while (this.#unwritten.length > 0 && (this.#unwritten[0] as { end: number }).end <= this.#flushed) {
      this.written += (this.#unwritten.shift() as { lines: number }).lines;
    }
    if (this.#notice.failing) this.#notice.succeeded();
    if (this.#unwritten.length === 0) for (const done of this.#waiting.splice(0)) done();
  }
}
