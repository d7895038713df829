/**
 * Defaults and constants, defined once. docs/CONFIG.md explains each choice.
 */
export const DEFAULTS = {
  listen: '127.0.0.1:8080',
  /** Fewest workers; `--max-workers` defaults to the CPUs this process may use (src/shared/cpus.ts). */
  minWorkers: 1,
  /** Idle time before the pool retires one worker (and the least time between two such retirements). */
  scaleDownAfter: 10_000,
  /** Event-loop utilization at which a worker counts as full (CPU-saturated). */
  eluFull: 0.9,
  /** Average event-loop utilization under which the pool may shrink. */
  eluIdle: 0.3,
  /** Waiting connections per extra worker when the pool grows. */
  queuePerWorker: 5,
  /** Accepted connections waiting for a worker; past this a client gets 503. */
  queueSize: 1024,
  /**
   * Longest wait in the queue (ms) before a connection is answered 503 with
   * Retry-After. Under overload a queue without it only delays every request
   * it serves: arrivals above capacity fill it, then each waits its depth
   * (seconds at 1024). What a queue should absorb is capacity on its way: a
   * worker starting (measured here: ~0.45 s for a small app) when the pool
   * grows or a dead worker is replaced. The autoscaler starts one grow at a
   * time, so the last of 3 slow requests on a pool growing from 1 to 3
   * waited 0.91-0.93 s (measured; up to 1.56 s with the machine busy with
   * other work): 1 s would have answered it 503. Past 2 s a client is better
   * told to come back (Retry-After: 1), or sent elsewhere by a load
   * balancer, than kept waiting. HAProxy's `timeout queue` is the same bound
   * (503 too; unset, it takes `timeout connect`). An app that takes longer
   * to start wants more (or a higher --min-workers). docs/CONFIG.md.
   */
  queueTimeout: 2000,
  /** Connections one worker serves at once before the master stops sending it more. */
  workerConnections: 1000,
  /**
   * Idle time between requests before a worker parks a keep-alive connection.
   * A client in a burst sends its next request within milliseconds, so 1 s never
   * parks a busy connection; it frees a worker from a quiet one within a second.
   */
  parkAfter: 1000,
  /**
   * When an idle connection parks. A park → wake cycle costs about 1.5 ms of CPU
   * over four IPC hops (measured, docs/BENCHMARKS.md), and a Node worker
   * holding an idle socket costs almost nothing (unlike Rocket's threads), so
   * by default connections park only where holding them costs: a worker near
   * its --worker-connections cap (90%), where the master would stop sending it
   * new ones. Retirement and rebalancing move connections whatever this says.
   */
  parkWhen: 'pressure',
  /** Total idle time a keep-alive connection may have (worker + monitor). */
  keepAliveTimeout: 5000,
  /** Parked sockets the monitor holds; a park beyond this closes the idle connection. */
  maxParked: 10_000,
  headersTimeout: 20_000,
  requestTimeout: 60_000,
  /** Node's own default; a larger head answers 431. */
  maxHeaderSize: 16 * 1024,
  shutdownTimeout: 10_000,
  /** A worker whose event loop has not answered for this long is killed and replaced. */
  workerTimeout: 30_000,
  /** A retiring worker (reload) that still holds connections after this is killed. */
  drainTimeout: 30_000,
  /** A worker that has not said `ready` by then is a failed start. */
  startTimeout: 15_000,
  /** How often Node checks headersTimeout/requestTimeout; bounds how late a 408 can be. */
  timeoutCheckInterval: 250,
  /** A peer that does not acknowledge a handle within this is considered hung. */
  ackTimeout: 10_000,
  logLevel: 'info',
  /** Log files rotate at this size ... */
  logMaxSize: '10m',
  /** ... and this many rotated files are kept: at most about 60 MB of logs per cluster. */
  logRetain: 5,
} as const;

/**
 * Workers and the monitor post to the master at least this often (a load
 * report, a heartbeat), so one silent for `workerTimeout` is hung, not idle.
 */
export const HEARTBEAT_MS = 500;

/**
 * A leaving worker is told how long it has (--drain-timeout, or what is left
 * of --shutdown-timeout) and is killed this much later: the margin lets it
 * log a shutdown hook that overran, naming the app, and exit by itself.
 */
export const EXIT_GRACE_MS = 1000;

/** Most workers one pool may have: config, `scale` and the control protocol share this bound. */
export const MAX_WORKERS = 256;

/** Lingering close for a rejected connection: read and drop until the client closes or this passes (in all, however much it sends). */
export const REJECT_LINGER_MS = 2000;

/** The queue is checked for connections past `queueTimeout` at least this often while it holds any: a 503 can be this late. */
export const QUEUE_SWEEP_MS = 100;

/** Environment variables that carry a child's role and settings (as NODE_UNIQUE_ID does for cluster). */
export const ENV = {
  role: 'ROCKET_CLUSTER_ROLE',
  id: 'ROCKET_CLUSTER_ID',
  config: 'ROCKET_CLUSTER_CONFIG',
} as const;

/**
 * Environment variables an app may read in a worker: its slot, 0 to
 * --max-workers − 1, stable across replacements (src/master/slots.ts);
 * NODE_APP_INSTANCE is PM2's name for the same number.
 */
export const APP_ENV = {
  workerId: 'ROCKET_WORKER_ID',
  appInstance: 'NODE_APP_INSTANCE',
} as const;
