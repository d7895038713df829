import fs from 'node:fs';
import path from 'node:path';
import { LineSplitter } from './line-splitter.js';

/** How often the file is looked at for new lines: `logs -f` is for a person, 10 looks a second is prompt. */
const POLL_MS = 100;
const CHUNK = 256 * 1024;

/**
 * `tail -F` of a rotating log file, for `logs --follow` when other processes
 * write the file too (the master cannot hand their lines over as it logs
 * them): reads what was appended to `link`'s target since `offset`, line by
 * line, and when `link` points to a new file (a rotation) reads the rest of
 * the old one, then the new one from its start.
 */
export class FileFollower {
  readonly #link: string;
  readonly #lines: LineSplitter;
  #file: string;
  #offset: number;
  #timer: NodeJS.Timeout | null = null;
  /** The read under way, if any: a poll while one runs joins it. */
  #reading: Promise<void> | null = null;

  /** Starts at `offset` in `file` (what `link` pointed to when the caller read up to there). */
  constructor(link: string, file: string, offset: number, listener: (line: string) => void) {
    this.#link = link;
    this.#file = file;
    this.#offset = offset;
    this.#lines = new LineSplitter(listener);
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.#poll(), POLL_MS);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Reads what was written up to now (the cluster is stopping: its last lines), then stops. */
  async finish(): Promise<void> {
    await this.#reading;
    await this.#poll();
    this.stop();
  }

  #poll(): Promise<void> {
    this.#reading ??= this.#read().finally(() => (this.#reading = null));
    return this.#reading;
  }

  async #read(): Promise<void> {
    const now = currentTarget(this.#link) ?? this.#file;
    await this.#readNew(this.#file);
    if (now !== this.#file) {
      this.#file = now;
      this.#offset = 0;
      await this.#readNew(now);
    }
  }

  async #readNew(file: string): Promise<void> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(file, 'r');
    } catch {
      return; // pruned or moved away: nothing more to read from it
    }
    try {
      const buffer = Buffer.allocUnsafe(CHUNK);
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, CHUNK, this.#offset);
        if (bytesRead === 0) break;
        this.#offset += bytesRead;
        this.#lines.push(Buffer.from(buffer.subarray(0, bytesRead)));
      }
    } finally {
      await handle.close();
    }
  }
}

/** The file a symlink points to now (as a path), or null if it cannot be read. */
export function currentTarget(link: string): string | null {
  try {
    return path.resolve(path.dirname(link), fs.readlinkSync(link));
  } catch {
    return null;
  }
}
