import { BufferedLines } from './buffered-lines.js';
import type { ChildRole } from './child-env.js';

/** pino's level numbers, as `--log-level` names them. */
const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
type LevelName = Exclude<keyof typeof LEVELS, 'silent'>;

/** The logger of a worker or the monitor: every call is (fields, msg). */
export type ChildLog = Record<LevelName, (fields: Record<string, unknown>, msg: string) => void> & {
  isLevelEnabled(level: LevelName): boolean;
};

/** What a line built without the logger needs to look like the logger's own (the access log). */
export interface LineTarget {
  /** Takes whole lines (each with its newline), in order with the logger's. */
  write(line: string): void;
  /** The fields every line carries after `time` (role, pid and the extra fields). */
  readonly base: Readonly<Record<string, string | number>>;
}

/** This process's destination (one per child process). */
let destination: BufferedLines | null = null;
let target: LineTarget | null = null;

/**
 * The logger of a child process: JSON lines shaped as pino's (level, ISO
 * time, role, pid, the extra fields, the event's fields, msg), to fd 1, which
 * the master reads, or (`redirectLogs`) straight to the cluster's log file.
 * Workers buffer (64 KB, flushed every second, on exit and by `flushLogs`);
 * the monitor writes each line at once.
 *
 * Not pino: a child logs a few lines in its life (start, drain, exit, an
 * app's errors) besides the access lines, which have their own template
 * (access-log.ts), and loading pino cost each process about 8 MB of RSS,
 * measured: more than a worker may cost over the app alone. The master, which
 * logs every event of the cluster, uses pino (logger.ts). An `err` field is
 * serialised as pino's does it: type, message, stack and its own fields.
 */
export function createChildLog(role: ChildRole, level: string, extra: Record<string, string | number>): ChildLog {
  const buffered = role === 'worker';
  destination = new BufferedLines(buffered ? 64 * 1024 : 0);
  const out = destination;
  if (buffered) {
    // Non-blocking, as an app's first console.log would make it anyway (Node's
    // process.stdout on a pipe): a worker must never stop serving because the
    // master is slow to read its log lines. A full pipe answers EAGAIN, and
    // the lines wait (bounded) for the next flush.
    void process.stdout;
    setInterval(() => out.flushSync(), 1000).unref();
    process.once('exit', flushLogs);
  }
  const base = { role, pid: process.pid, ...extra };
  target = { write: (line) => out.write(line), base };
  const threshold: number = LEVELS[level as keyof typeof LEVELS] ?? LEVELS.info;
  const at = (n: number) => (fields: Record<string, unknown>, msg: string) => {
    if (n >= threshold) out.write(jsonLine(n, base, fields, msg));
  };
  return {
    trace: at(LEVELS.trace),
    debug: at(LEVELS.debug),
    info: at(LEVELS.info),
    warn: at(LEVELS.warn),
    error: at(LEVELS.error),
    fatal: at(LEVELS.fatal),
    isLevelEnabled: (name) => LEVELS[name] >= threshold,
  };
}

/** One line of a child's log (exported for its test). */
export function jsonLine(level: number, base: Record<string, unknown>, fields: Record<string, unknown>, msg: string): string {
  const own: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) own[k] = v instanceof Error ? serializeError(v) : v;
  const line = { level, time: new Date().toISOString(), ...base, ...own, msg };
  try {
    return `${JSON.stringify(line)}\n`;
  } catch (error) {
    // A field JSON cannot hold (a cycle, a BigInt): the event still gets its line.
    return `${JSON.stringify({ level, time: line.time, ...base, msg, unserializable: String(error) })}\n`;
  }
}

/** As pino's `err` serializer: type, message, stack, the error's own fields (code, errno...) and its cause. */
function serializeError(error: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { type: error.name, message: error.message, stack: error.stack };
  for (const [k, v] of Object.entries(error)) if (typeof v !== 'function' && typeof v !== 'object') out[k] = v;
  if (error.cause instanceof Error) out.cause = serializeError(error.cause);
  else if (error.cause !== undefined) out.cause = String(error.cause);
  return out;
}

/** The destination and base fields of this process's logger, for lines of a fixed shape (the access log). */
export function lineTarget(): LineTarget {
  if (!target) throw new Error('lineTarget: no child logger yet');
  return target;
}

/** Writes out buffered log lines now (before a process may be killed). */
export function flushLogs(): void {
  destination?.flushSync();
}

/**
 * Sends this process's own lines (not an app's console output, which stays on
 * fd 1 for the master to tag) straight to the end of `file`, or back to fd 1
 * with null. The master names the file it writes itself (--log-dir), again
 * after each rotation. Throws if it cannot be opened.
 */
export function redirectLogs(file: string | null): void {
  destination?.redirect(file);
}

/** `redirectLogs`, except that a file that cannot be opened is logged (lines go on where they went) rather than thrown. */
export function followLogFile(file: string, log: ChildLog): void {
  try {
    redirectLogs(file);
  } catch (error) {
    log.warn({ err: error, file }, 'cannot open the log file: this process goes on writing its lines where it did');
  }
}

/** Lines of this process's logger lost to write errors, and the first error's code. */
export function logWriteFailures(): { dropped: number; error?: string } {
  const dropped = destination?.dropped ?? 0;
  const error = destination?.error;
  return error === undefined ? { dropped } : { dropped, error };
}
