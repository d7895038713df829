/**
 * Every IPC message that crosses a process boundary, defined once.
 *
 *   master ─── listen{index,limit}+shared listening socket ──▶ worker (--accept workers)
 *   client ──TCP──▶ worker (accepts itself while under its limit)
 *                     master ◀── surplus{id}+handle ── worker (over its limit: to the queue)
 *   master ─── shed{count} ──▶ worker (saturated, over its share: hand `count` keep-alive
 *                     master ◀── surplus{id}+handle ── worker   connections back between requests)
 *   master ─── tls{listeners} ──▶ worker (first message, when an address is https://)
 *   client ──TCP──▶ master ─── conn{id,head,listener}+handle ──▶ worker 1..N
 *                     ▲  ◀──── ack{seq,ok} ───────────────┘   │
 *                     │  ◀──── park{id}+handle ────────────────┘ (idle keep-alive)
 *                     │  ─── watch{id,idleFor}+handle ──▶ monitor
 *                     └──── wake{id,head}+handle ◀────────┘ (client sent again)
 *   master ─── scrape{id} ──▶ worker ─── metrics{id,metrics} ──▶ master (GET /metrics)
 *   master ─── log-file{file} ──▶ worker (--log-dir: where its own lines go after a rotation)
 *   worker ─── load{…} ──▶ master ◀── heartbeat ─── monitor (each at least every 0.5 s;
 *                                                   silent for --worker-timeout: killed)
 *
 * IPC only exists parent↔child, so worker→monitor and monitor→worker go through
 * the master, which relays raw handles and never reads from them. A message that
 * carries a handle is acknowledged with `ack{seq, ok}`; the sender keeps its copy
 * of the handle until then, so a refused or unanswered handle is never lost.
 * `head` is base64 of bytes a process already read from the socket: the next
 * owner replays them before anything else it reads.
 */

import type { Registry } from 'prom-client';
import type { ClusterConfig } from './config.js';

/** Version of the envelope; a peer with another version is a bug, not a guess. */
export const PROTOCOL_VERSION = 1;

/** Tag that tells our messages apart from an app's own `process.send` traffic. */
const TAG = 'rocket-cluster';

export interface Envelope<M> {
  readonly tag: typeof TAG;
  readonly v: typeof PROTOCOL_VERSION;
  /** Sequence number; set on messages that carry a handle and expect an ack. */
  readonly seq?: number;
  readonly m: M;
}

/** Acknowledges one handle-carrying message; `ok: false` means "not accepted, still yours". */
export interface Ack {
  readonly t: 'ack';
  readonly seq: number;
  readonly ok: boolean;
}

/** Load a worker reports; sent coalesced, at most once per event-loop turn. */
export interface WorkerLoad {
  /** Connections the worker holds now (parked or closed ones excluded). */
  readonly active: number;
  /** Requests served since the worker started. */
  readonly served: number;
  /** Connections received from the master since the worker started. */
  readonly received: number;
  /** Connections the worker accepted itself on shared listening sockets since it started. */
  readonly accepted: number;
  /** Event-loop utilization (0..1) since the previous report: near 1 is a CPU-saturated worker. */
  readonly elu: number;
  /** Resident memory of the worker process, in bytes. */
  readonly rss: number;
  /** With --log-dir: the worker's own log lines lost to write errors since it started, and the first error's code. */
  readonly logDropped: number;
  readonly logError?: string;
  /**
   * Times the worker ran out of file descriptors since it started (open within
   * a small margin of its soft limit, src/shared/descriptors.ts); whether it is
   * out of them now (`fdOut`: a descriptor sent to it now would be dropped by
   * the kernel, so the master sends it none); its open descriptors and soft
   * limit as last sampled (on the heartbeat; absent where /proc cannot tell).
   */
  readonly fdExhausted?: number;
  readonly fdOut?: boolean;
  readonly fdOpen?: number;
  readonly fdLimit?: number;
}

/**
 * Whether a worker can hand connections back (park them, and on retirement).
 * Off when a Node internal it needs is missing (`reason` names it): then it
 * keeps idle connections under Node's own keep-alive timeout and closes them
 * when it leaves.
 */
export interface ParkingState {
  readonly enabled: boolean;
  readonly reason?: string;
}

/** Why a worker handed a connection over: accepted over its limit, or shed to rebalance a saturated worker. */
export type SurplusReason = 'limit' | 'rebalance';

/** One process's metrics as prom-client's `getMetricsAsJSON()` gives them; the master sums workers' with `AggregatorRegistry.aggregate`. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/**
 * What a worker needs to terminate TLS on listen address `index`: the
 * contents of the files (the master reads them, so a key only root may read
 * still reaches workers that run as --user), and the handshake settings.
 */
export interface TlsMaterial {
  readonly index: number;
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
  readonly passphrase?: string;
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  readonly ciphers?: string;
}

export type MasterToWorker =
  | Ack
  /**
   * A connection to serve. `listener`: the index into --listen it came in on
   * (a TLS one is wrapped in TLS by the worker); absent for one that moved
   * (parked or shed), which is always plain HTTP.
   */
  | { readonly t: 'conn'; readonly id: number; readonly head?: string; readonly listener?: number }
  /** The first message to a worker when any address is https://: its certificates, read at start or at the reload that started it. */
  | { readonly t: 'tls'; readonly listeners: readonly TlsMaterial[] }
  /** Asks for the worker's metrics; answered by `metrics` with the same `id`. */
  | { readonly t: 'scrape'; readonly id: number }
  /**
   * Retirement (reload, scale-down, recycling): park every connection once
   * idle, finish in-flight requests, run the app's shutdown hook, exit.
   * `withinMs`: the time it has for all that (the master kills it a little later).
   */
  | { readonly t: 'retire'; readonly withinMs: number }
  /** Shutdown of the whole server: close connections gracefully, run the app's shutdown hook, exit; `withinMs` as for `retire`. */
  | { readonly t: 'shutdown'; readonly withinMs?: number }
  /**
   * With a shared listening socket (`index` into --listen) lent along: accept on
   * it. A connection accepted while holding `limit` or more goes to the master.
   */
  | { readonly t: 'listen'; readonly index: number; readonly limit: number }
  /** The most connections the worker holds before new ones it accepts go to the master. */
  | { readonly t: 'limit'; readonly limit: number }
  /** Lend the master a copy of shared listening socket `index` (answered by `lent`). */
  | { readonly t: 'lend'; readonly index: number }
  /** With --log-dir: append the worker's own log lines to `file` from now on (after a rotation or SIGUSR1 reopen). */
  | { readonly t: 'log-file'; readonly file: string }
  /**
   * Rebalance: hand `count` connections back as `surplus` (why `rebalance`),
   * each at a moment it is between requests, within `withinMs`; the rest of
   * the count lapses then. Replaces any earlier shed.
   */
  | { readonly t: 'shed'; readonly count: number; readonly withinMs: number };

export type WorkerToMaster =
  | Ack
  | ({ readonly t: 'ready'; readonly parking: ParkingState } & WorkerLoad)
  | ({ readonly t: 'load' } & WorkerLoad)
  | { readonly t: 'park'; readonly id: number }
  /**
   * A connection this worker hands over with nothing of a next request read:
   * accepted over its limit (`limit`), or, asked to shed, between two requests
   * (`rebalance`). The master queues it. With the worker's connection counts
   * as of now, so that the master does not send it straight back.
   */
  | { readonly t: 'surplus'; readonly id: number; readonly active: number; readonly received: number; readonly why: SurplusReason; readonly listener?: number }
  /** A copy of shared listening socket `index`, asked for by `lend`. */
  | { readonly t: 'lent'; readonly index: number }
  | { readonly t: 'metrics'; readonly id: number; readonly metrics: MetricsJson }
  | { readonly t: 'fatal'; readonly code: string; readonly message: string };

export type MasterToMonitor =
  | Ack
  /** `idleFor`: how long the connection has already been idle in its worker, in ms. */
  | { readonly t: 'watch'; readonly id: number; readonly idleFor: number }
  /** A master upgrade: hand every parked socket back now, as a `wake` with what has been read (often nothing). */
  | { readonly t: 'release' }
  | { readonly t: 'shutdown' };

export type MonitorToMaster =
  | Ack
  | { readonly t: 'ready' }
  /** Sockets it holds, after some left without the master seeing it (client closed, keep-alive time up). */
  | { readonly t: 'parked'; readonly count: number }
  /** Sent every HEARTBEAT_MS whatever happens (a monitor silent for `workerTimeout` is hung and replaced), with the sockets it holds. */
  | { readonly t: 'heartbeat'; readonly parked: number }
  | { readonly t: 'wake'; readonly id: number; readonly head: string };

/**
 * How a cluster was started, so that a master upgrade can resolve its config
 * again from what is on disk now (the config file, the same flags and
 * environment): the `start` command's request, as src/config/cli.ts builds it.
 */
export interface StartOrigin {
  readonly app?: string;
  readonly flags: Readonly<Record<string, unknown>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly configPath?: string;
  /** `--env <name>`: the env_<name> set chosen at start, chosen again by each reload and upgrade. */
  readonly envName?: string;
}

/**
 * A master upgrade (`rocket-cluster upgrade`, SIGUSR2), between the old master
 * and the new one it forks from the code on disk:
 *
 *   old ── start{name,origin,listeners,admin} ──▶ new
 *   old ── listener{index}+listening socket ────▶ new   (each, then the admin one: index -1)
 *   old ◀── ready{pid,addresses} | failed{code,message} ── new   (workers and monitor ready)
 *   old ── conn{head}+handle ───────────────────▶ new   (idle, parked and queued connections, until none is left)
 *   old ── control-free ────────────────────────▶ new   (the old master closed its control socket: the name is free)
 *   old ── done ────────────────────────────────▶ new   (nothing more comes; the old master exits)
 */
export type OldToNewMaster =
  | Ack
  /** `logDir`: the old master's (a daemon's default one is not in its origin), so the logs carry over. */
  /** `addresses`: the old master's listen addresses as bound (port 0 resolved), in --listen order. */
  | { readonly t: 'start'; readonly name: string; readonly origin: StartOrigin; readonly logDir?: string; readonly addresses: readonly string[]; readonly admin: boolean }
  | { readonly t: 'listener'; readonly index: number }
  | { readonly t: 'conn'; readonly head?: string; readonly listener?: number }
  | { readonly t: 'control-free' }
  | { readonly t: 'done' };

export type NewToOldMaster =
  | Ack
  | { readonly t: 'ready'; readonly pid: number; readonly addresses: readonly string[] }
  | { readonly t: 'failed'; readonly code: string; readonly message: string };

export type AnyMessage = MasterToWorker | WorkerToMaster | MasterToMonitor | MonitorToMaster | OldToNewMaster | NewToOldMaster;

export function wrap<M>(m: M, seq?: number): Envelope<M> {
  return seq === undefined ? { tag: TAG, v: PROTOCOL_VERSION, m } : { tag: TAG, v: PROTOCOL_VERSION, seq, m };
}

/** What a started cluster tells whoever started it (a daemon's parent prints it). */
export interface MasterReady {
  readonly name: string;
  readonly pid: number;
  readonly addresses: readonly string[];
  readonly admin: string | null;
  /** The control socket; null if it could not be opened (foreground only). */
  readonly control: string | null;
}

/**
 * `start --daemon`: the CLI forks the detached master (src/master/daemon-main.ts),
 * sends it its resolved ClusterConfig as the one message, and waits for one
 * answer before both close the channel.
 */
/** The one message the CLI sends a daemon's master: its config, and what it was resolved from. */
export interface DaemonStart {
  readonly config: ClusterConfig;
  readonly origin: StartOrigin;
}

export type DaemonToCli =
  | { readonly t: 'ready'; readonly ready: MasterReady }
  | { readonly t: 'failed'; readonly code: string; readonly message: string };

/**
 * What happened to a running cluster, as it happens: the master pushes each
 * one to a caller of the programmatic API (src/api/), which emits it on its
 * handle. `worker` follows one worker process; `reason` says why it exited:
 * `stopped` (the cluster stops), `retired` (reload, scale-down, recycling),
 * `failed-start` (a reload's new worker that never got ready), `spawn-failed`
 * (no process could be started: EMFILE, EAGAIN) or `crashed` (anything else:
 * it died, or was killed hung).
 */
export type WorkerExitReason = 'stopped' | 'retired' | 'failed-start' | 'spawn-failed' | 'crashed';

export type ClusterEvent =
  | { readonly t: 'worker'; readonly event: 'spawned' | 'ready'; readonly id: number; readonly pid: number | null; readonly generation: number }
  | {
      readonly t: 'worker';
      readonly event: 'exited';
      readonly id: number;
      readonly pid: number | null;
      readonly generation: number;
      readonly code: number | null;
      readonly signal: string | null;
      readonly reason: WorkerExitReason;
    }
  /** The pool's size changed (autoscaler, `scale`, SIGTTIN/SIGTTOU): `workers` is the new size. */
  | { readonly t: 'scale'; readonly kind: 'grow' | 'shrink'; readonly workers: number; readonly reason: string }
  /** A rolling reload started, completed, or was refused or aborted (`reason`; the old workers keep serving). */
  | { readonly t: 'reload'; readonly phase: 'started' | 'done' | 'failed'; readonly generation: number; readonly reason?: string }
  /** Something the caller must know and no command reported: a crash loop (workers are no longer restarted). */
  | { readonly t: 'error'; readonly code: string; readonly message: string };

/** A command of the programmatic API, carried out by the same handlers as the control socket's (src/control/server.ts). */
export type ApiCommand = { readonly cmd: 'status' } | { readonly cmd: 'reload' } | { readonly cmd: 'scale'; readonly to: number } | { readonly cmd: 'stop' };

/**
 * The programmatic API (src/api/) and the master it forks
 * (src/master/embedded-main.ts), over that child's IPC channel:
 *
 *   api ── start{config,detached} ──▶ master
 *   api ◀── ready{ready} | failed{code,message} ── master
 *   api ◀── event{event} ── master                         (as things happen)
 *   api ── request{id,command} ──▶ master ── reply{id,…} ──▶ api
 *   api ◀── exiting{code} ── master                        (last: every child is gone)
 *
 * The master stops gracefully when the channel closes (the caller exited or
 * was killed) unless it was started `detached`.
 */
export type ApiToMaster =
  | { readonly t: 'start'; readonly config: ClusterConfig; readonly detached: boolean }
  | { readonly t: 'request'; readonly id: number; readonly command: ApiCommand };

export type MasterToApi =
  | DaemonToCli
  | { readonly t: 'event'; readonly event: ClusterEvent }
  | { readonly t: 'reply'; readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly t: 'reply'; readonly id: number; readonly ok: false; readonly code: string; readonly message: string }
  /** The master's last message: every child is gone and it exits with `code`. */
  | { readonly t: 'exiting'; readonly code: number };

/** Runtime guard: is this one of ours (and of our version)? */
export function isEnvelope(x: unknown): x is Envelope<{ t: string }> {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Partial<Envelope<unknown>>;
  return (
    e.tag === TAG &&
    e.v === PROTOCOL_VERSION &&
    typeof e.m === 'object' &&
    e.m !== null &&
    typeof (e.m as { t?: unknown }).t === 'string'
  );
}

/** Compile-time exhaustiveness check for message switches. */
export function assertNever(x: never): never {
  throw new Error(`unhandled message: ${JSON.stringify(x)}`);
}
