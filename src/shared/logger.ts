import pino, { type Logger } from 'pino';
import { BufferedLines } from './buffered-lines.js';

export type Role = 'master' | 'worker' | 'monitor' | 'cli';
export type { Logger };

/**
 * One logger per process, JSON lines with role and pid bound. Children write
 * to fd 1, which the master reads and merges (src/logs/sink.ts); the master
 * gives its sink as `to`. Workers write access lines at request rate, so their
 * output is buffered and flushed at least once a second and on exit; the other
 * roles write at once.
 */
const destinations: BufferedLines[] = [];

/** What a line built without pino needs to look like the logger's own (see `lineTarget`). */
export interface LineTarget {
  /** Takes whole lines (each with its newline), in order with the logger's. */
  write(line: string): void;
  /** The fields the logger puts after `time` on every line (role, pid and `extra`). */
  readonly base: Readonly<Record<string, string | number>>;
}

const targets = new WeakMap<Logger, LineTarget>();

/**
 * The destination and base fields of a logger made by `createLogger`, for
 * lines of a fixed shape written at request rate (the access log), which are
 * cheaper to build from a template than through pino.
 */
export function lineTarget(log: Logger): LineTarget {
  const target = targets.get(log);
  if (!target) throw new Error('lineTarget: not a logger made by createLogger');
  return target;
}

/** Writes out buffered log lines now (before a process may be killed). */
export function flushLogs(): void {
  for (const d of destinations) d.flushSync();
}

/**
 * Sends this process's own lines (its loggers', not an app's console output,
 * which stays on fd 1 for the master to tag) straight to the end of `file`,
 * or back to fd 1 with null. The master names the file it writes itself
 * (--log-dir), again after each rotation. Throws if it cannot be opened.
 */
export function redirectLogs(file: string | null): void {
  for (const d of destinations) d.redirect(file);
}

/** Lines of this process's own loggers lost to write errors, and the first error's code. */
export function logWriteFailures(): { dropped: number; error?: string } {
  const dropped = destinations.reduce((n, d) => n + d.dropped, 0);
  const error = destinations.find((d) => d.error !== undefined)?.error;
  return error === undefined ? { dropped } : { dropped, error };
}

/** `to`: where the lines go instead of fd 1 (the master's log sink). */
export function createLogger(role: Role, level = 'info', extra: Record<string, string | number> = {}, to?: pino.DestinationStream): Logger {
  const base = { role, pid: process.pid, ...extra };
  const options = { level, base, timestamp: pino.stdTimeFunctions.isoTime };
  if (to) {
    const log = pino(options, to);
    targets.set(log, { write: (line) => to.write(line), base });
    return log;
  }
  const buffered = role === 'worker';
  // 64 KB, a pipe's default capacity: each write to fd 1 wakes the master to
  // read it, and each is a system call here; a quiet worker still flushes each second.
  const destination = new BufferedLines(buffered ? 64 * 1024 : 0);
  destinations.push(destination);
  if (buffered) {
    // Non-blocking, as an app's first console.log would make it anyway (Node's
    // process.stdout on a pipe): a worker must never stop serving because the
    // master is slow to read its log lines. A full pipe answers EAGAIN, and
    // the lines wait here (bounded) for the next flush.
    void process.stdout;
    setInterval(() => destination.flushSync(), 1000).unref();
    process.once('exit', flushLogs);
  }
  const log = pino(options, destination);
  targets.set(log, { write: (line) => destination.write(line), base });
  return log;
}
