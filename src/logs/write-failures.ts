import fs from 'node:fs';

/** Least time between two warnings about failing log writes. */
const WARN_INTERVAL_MS = 10_000;

/**
 * Tells the operator on stderr that log lines are being lost: once when writes
 * start failing, then not again until a write has worked in between and at
 * least 10 s have passed, so a full disk costs one stderr line per burst, not
 * one per batch. Written with `fs.write` to fd 2, errors ignored: the warning
 * must not fail in turn (`process.stderr` would raise EPIPE as an 'error' event).
 */
export class WriteFailureNotice {
  readonly #target: () => string;
  #failing = false;
  #lastWarning = -Infinity;

  /** `target`: where the lines are going now, as the warning names it (a file, or stdout). */
  constructor(target: () => string) {
    this.#target = target;
  }

  get failing(): boolean {
    return this.#failing;
  }

  failed(reason: string, dropped: number): void {
    if (this.#failing) return;
    this.#failing = true;
    const now = Date.now();
    if (now - this.#lastWarning < WARN_INTERVAL_MS) return;
    this.#lastWarning = now;
    const line = {
      level: 40,
      time: new Date(now).toISOString(),
      role: 'master',
      pid: process.pid,
      target: this.#target(),
      reason,
      dropped,
      msg: 'log writes are failing: lines are kept up to a limit, then dropped and counted (logs.dropped in /status)',
    };
    fs.write(2, `${JSON.stringify(line)}\n`, () => {});
  }

  succeeded(): void {
    this.#failing = false;
  }
}
