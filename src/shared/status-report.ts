/**
 * What a running cluster reports about itself: `GET /status`, the control
 * socket's `status` and the CLI's tables all carry this shape. It lives here,
 * below every role, because the master builds it and the CLI and the control
 * protocol read it.
 */

import type { ParkingState } from './protocol.js';

/** A child process's life as the master sees it. */
export type ChildState = 'spawning' | 'ready' | 'draining' | 'stopping' | 'exited';

/** One pool size change, with why. */
export interface ScaleEvent {
  readonly at: string;
  readonly kind: 'grow' | 'shrink';
  readonly workers: number;
  readonly reason: string;
}

/**
 * The pool's memory budget (`--pool-memory-soft`, `--pool-memory-hard`, in
 * MB; null when not set) and the workers' total RSS in bytes from their last
 * load reports, retiring workers included.
 */
export interface PoolMemory {
  readonly soft: number | null;
  readonly hard: number | null;
  readonly rss: number;
  /** The limit the total is above now; null within budget (or with no budget). */
  readonly over: 'memory-soft' | 'memory-hard' | null;
  /** The limit holding growth back in the episode now (the pool wanted to grow and did not); null when none does. */
  readonly holding: 'memory-soft' | 'memory-hard' | null;
  /** Episodes of growth held back since start. */
  readonly held: number;
}

/** What `/status` shows of the log pipeline. */
export interface LogStats {
  /** The log file written now; null when lines go to stdout. */
  readonly file: string | null;
  /** Lines the output (file or stdout) has taken. */
  readonly written: number;
  /** Lines lost: the output failed (full disk, closed pipe) or fell too far behind. */
  readonly dropped: number;
  /** Of those, lines the workers lost appending to the log file themselves (with --log-dir). */
  readonly droppedByWorkers?: number;
}

/** What `GET /status` answers, and `rocket-cluster status --json` under `status`. */
export interface StatusReport {
  readonly name: string;
  readonly pid: number;
  readonly state: 'starting' | 'running' | 'stopping';
  /** Generation of the newest workers; each reload starts the next. */
  readonly generation: number;
  readonly reloading: boolean;
  readonly uptimeMs: number;
  readonly listening: readonly string[];
  /**
   * `rejected`: answered 503 on arrival (queue full, or no worker can serve);
   * `timedOut`: answered 503 after waiting `queueTimeout` ms in the queue.
   */
  readonly queue: { readonly depth: number; readonly capacity: number; readonly oldestWaitMs: number; readonly rejected: number; readonly timedOut: number };
  /** `count` includes `inFlight`: parks sent to the monitor and not yet acknowledged (a monitor death closes them as refused, not lost). */
  readonly parked: {
    readonly count: number;
    readonly inFlight: number;
    readonly capacity: number;
    readonly refused: number;
    readonly lost: number;
  };
  readonly monitor: {
    readonly pid: number | null;
    readonly state: ChildState | 'none';
    readonly restarts: number;
    /** When and why the monitor was last replaced (it died, or it hung and was killed); null if never. */
    readonly lastRestart: { readonly at: string; readonly reason: string } | null;
  };
  readonly workers: readonly {
    readonly id: number;
    /** Its slot (ROCKET_WORKER_ID): 0 to max − 1, taken over by the worker that replaces it. */
    readonly slot: number;
    readonly pid: number | null;
    readonly state: ChildState;
    readonly generation: number;
    readonly connections: number;
    readonly served: number;
    readonly uptimeMs: number;
    /** What the worker said when ready (null before): off when a Node internal it needs is missing. */
    readonly parking: ParkingState | null;
    /** Its file descriptors from its last heartbeat, and the times it ran out of them. */
    readonly descriptors: DescriptorCount & { readonly exhausted: number };
  }[];
  readonly restarts: number;
  /** Pool bounds and the last scale events with their reason. */
  readonly pool: {
    readonly min: number;
    readonly max: number;
    /** Why workers are no longer restarted (a crash loop), or null. */
    readonly errored: string | null;
    readonly recycled: number;
    readonly events: readonly ScaleEvent[];
    /** Scale events since start, by kind. */
    readonly scaled: Readonly<Record<ScaleEvent['kind'], number>>;
    readonly memory: PoolMemory;
  };
  /**
   * `accepted`: by the master (every new connection with `--accept master`);
   * `acceptedByWorkers`: by workers on the shared listeners (`--accept workers`);
   * `surplus`: of those, handed to the master's queue by a worker over its limit;
   * `sheds`: times a saturated worker was asked to hand connections back (rebalance);
   * `moved`: connections it handed back for that, between requests, to be served by another worker;
   * `dispatched`: sent from the queue to a worker.
   */
  readonly connections: {
    readonly accept: 'workers' | 'master';
    /** The master is accepting new connections itself (with `--accept workers`: only while no worker does). */
    readonly masterAccepting: boolean;
    readonly accepted: number;
    readonly acceptedByWorkers: number;
    readonly surplus: number;
    readonly sheds: number;
    readonly moved: number;
    readonly dispatched: number;
    readonly parks: number;
    readonly wakes: number;
    /** `--sticky ip`: client addresses bound to a worker now, and bindings moved to an heir when a worker left; null without it. */
    readonly sticky: { readonly addresses: number; readonly moved: number } | null;
  };
  /** The log file written now (null: stdout), lines written, lines lost (full disk, closed pipe). */
  readonly logs: LogStats;
  /**
   * Running out of file descriptors (`ulimit -n`): `exhausted` counts the
   * episodes of every process (exited workers included), each begun when its
   * open descriptors came within a small margin of its soft limit; then the
   * master's, the monitor's (read by the master from /proc) and the workers'
   * total. While one lasts, connections that process cannot take are closed
   * unserved. `droppedOnTheWay`: connections whose descriptor the kernel
   * dropped on the way to a worker out of them (each lost).
   */
  readonly descriptors: DescriptorStats;
}

/** A process's open descriptors and soft limit as last sampled (null where /proc cannot tell, or unlimited). */
export interface DescriptorCount {
  readonly open: number | null;
  readonly limit: number | null;
}

/** What `/status` shows of file descriptor exhaustion. */
export interface DescriptorStats {
  readonly exhausted: number;
  readonly master: DescriptorCount & { readonly exhausted: number; readonly now: boolean };
  readonly monitor: DescriptorCount & { readonly exhausted: number; readonly now: boolean };
  readonly workers: { readonly exhausted: number; readonly droppedOnTheWay: number };
}
