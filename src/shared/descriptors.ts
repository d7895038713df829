import { readdirSync, readFileSync, statSync } from 'node:fs';

/**
 * Running out of file descriptors, seen from inside a process.
 *
 * Why not from accept errors: when `accept()` fails with EMFILE, libuv closes
 * a descriptor it keeps in reserve, accepts every waiting connection and
 * closes it at once (its "EMFILE trick"), and tells JavaScript nothing. So an
 * error branch in `onconnection` almost never runs, while clients are being
 * hung up on. Instead each process compares, on its heartbeat, how many
 * descriptors it has open with its soft limit (`ulimit -n`), both from /proc.
 *
 * Cost: `stat("/proc/self/fd")` reports the number of open descriptors as its
 * size since Linux 6.2 (46 µs here with 10,000 open), and needs no descriptor
 * of its own, so it works when none is left. On an older kernel the size is
 * 0 and the directory is listed instead (11 ms with 10,000 open, so this
 * costs a busy worker more there). The limit is read again on each sample
 * (0.14 ms), so `prlimit --pid` on a running process is seen; when no
 * descriptor is left to read it with, the last value is kept.
 */

/** Within this many descriptors of the soft limit a process counts as out of them. */
export const FD_MARGIN = 8;

/** While a process stays out of descriptors, it logs at most one warning per this many ms. */
export const FD_LOG_INTERVAL_MS = 10_000;

const EMFILE = -24;
const ENFILE = -23;

/** What a watch logs with: the master's pino logger and a child's log both fit. */
export interface DescriptorLog {
  warn(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
}

/** Which process: this one, or another of the same user (the master samples the monitor's). */
export type DescriptorTarget = 'self' | number;

/**
 * Descriptors the process has open now; `'exhausted'` if counting them needed
 * a descriptor of ours and none was left; null where /proc cannot tell (not
 * Linux, or the process has gone).
 */
export function openDescriptors(target: DescriptorTarget = 'self'): number | 'exhausted' | null {
  const dir = `/proc/${target}/fd`;
  try {
    const size = statSync(dir).size;
    if (size > 0) return size;
  } catch {
    return null;
  }
  try {
    return readdirSync(dir).length - (target === 'self' ? 1 : 0); // our own listing's descriptor
  } catch (error) {
    return outOfDescriptors(error) ? 'exhausted' : null;
  }
}

/**
 * The process's soft limit on open files (`ulimit -n`): Infinity if unlimited;
 * `'exhausted'` if reading it needed a descriptor of ours and none was left;
 * null if it cannot be read (not Linux, gone).
 */
export function descriptorLimit(target: DescriptorTarget = 'self'): number | 'exhausted' | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${target}/limits`, 'latin1');
  } catch (error) {
    return outOfDescriptors(error) ? 'exhausted' : null;
  }
  const m = /^Max open files\s+(\S+)/m.exec(text);
  if (!m) return null;
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

function outOfDescriptors(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EMFILE' || code === 'ENFILE';
}

/** One process's descriptors as last sampled, and its exhaustion episodes since it started. */
export interface DescriptorState {
  /** Open at the last sample; null where it cannot be known. */
  readonly open: number | null;
  /** Soft limit at the last sample; null where it cannot be known (Infinity is reported as null). */
  readonly limit: number | null;
  /** Times it ran out: entered `open ≥ limit − FD_MARGIN` (or an accept failed with EMFILE). */
  readonly exhausted: number;
  /** Out of descriptors now. */
  readonly now: boolean;
}

/** One reading of a process's descriptors, as `openDescriptors` and `descriptorLimit` give them. */
export interface DescriptorReading {
  readonly open: number | 'exhausted' | null;
  readonly limit: number | 'exhausted' | null;
}

export interface DescriptorWatchOptions {
  /** Whose descriptors, asked on each sample (null: none now); this process by default. */
  readonly target?: () => DescriptorTarget | null;
  /** Fields added to each log line (which process it is about, when not this one). */
  readonly fields?: () => Record<string, unknown>;
  /** How a sample is read; /proc by default (tests give their own). */
  readonly read?: (target: DescriptorTarget) => DescriptorReading;
}

function readProc(target: DescriptorTarget): DescriptorReading {
  return { limit: descriptorLimit(target), open: openDescriptors(target) };
}

/**
 * Counts a process's episodes of descriptor exhaustion and logs them: one
 * warning when an episode starts, at most one per FD_LOG_INTERVAL_MS while it
 * lasts, one line when it ends. Never one per failed accept. An episode ends
 * when the count is back under the limit by twice the margin, so a process
 * that hovers at the edge counts one episode, not one per sample.
 */
export class DescriptorWatch {
  readonly #log: DescriptorLog;
  readonly #target: () => DescriptorTarget | null;
  readonly #fields: () => Record<string, unknown>;
  readonly #read: (target: DescriptorTarget) => DescriptorReading;
  #open: number | null = null;
  #limit: number | null = null;
  #episodes = 0;
  #inEpisode = false;
  #since = 0;
  #lastWarned = -Infinity;
  /** Accepts that failed (any errno) since the last warning, and in all. */
  #failedSinceWarn = 0;
  #failed = 0;

  constructor(log: DescriptorLog, options: DescriptorWatchOptions = {}) {
    this.#log = log;
    this.#target = options.target ?? (() => 'self');
    this.#fields = options.fields ?? (() => ({}));
    this.#read = options.read ?? readProc;
  }

  get state(): DescriptorState {
    return { open: this.#open, limit: this.#limit === Infinity ? null : this.#limit, exhausted: this.#episodes, now: this.#inEpisode };
  }

  /** Samples /proc now (on the caller's heartbeat). */
  sample(now = Date.now()): void {
    const target = this.#target();
    if (target === null) return;
    const { limit, open } = this.#read(target);
    if (typeof limit === 'number') this.#limit = limit;
    if (typeof open === 'number') this.#open = open;
    // Out of descriptors ourselves: reading /proc needed one. The limit may have been lowered since it was read (prlimit).
    // About another process, that says nothing of it: the reader is the one out of them.
    if (limit === 'exhausted' || open === 'exhausted') return target === 'self' ? this.#enter(now, 'no descriptor left to read /proc with') : undefined;
    if (open === null || this.#limit === null || this.#limit === Infinity) return;
    if (open >= this.#limit - FD_MARGIN) return this.#enter(now, null);
    if (this.#inEpisode && open < this.#limit - 2 * FD_MARGIN) this.#leave(now);
  }

  /** An accept that reached JavaScript failed (rare: see above); EMFILE or ENFILE starts an episode. */
  acceptFailed(errno: number, now = Date.now()): void {
    this.#failed++;
    this.#failedSinceWarn++;
    if (errno === EMFILE || errno === ENFILE) this.#enter(now, `accept failed (errno ${errno})`);
    else this.#warnAtMostEveryInterval(now, { ...this.#fields(), errno }, 'accept failed');
  }

  #enter(now: number, why: string | null): void {
    if (!this.#inEpisode) {
      this.#inEpisode = true;
      this.#since = now;
      this.#episodes++;
      this.#lastWarned = -Infinity; // an episode's start is always told
    }
    this.#warnAtMostEveryInterval(
      now,
      { ...this.#fields(), open: this.#open, limit: this.#limit, episodes: this.#episodes, ...(why === null ? {} : { why }) },
      'out of file descriptors: connections it cannot take are closed unserved until some close (raise ulimit -n)',
    );
  }

  #leave(now: number): void {
    this.#inEpisode = false;
    this.#log.info({ ...this.#fields(), open: this.#open, limit: this.#limit, lastedMs: now - this.#since, failedAccepts: this.#failed }, 'file descriptors available again');
  }

  #warnAtMostEveryInterval(now: number, fields: Record<string, unknown>, msg: string): void {
    if (now - this.#lastWarned < FD_LOG_INTERVAL_MS) return;
    this.#lastWarned = now;
    this.#log.warn({ ...fields, failedAccepts: this.#failedSinceWarn }, msg);
    this.#failedSinceWarn = 0;
  }
}
