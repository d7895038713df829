import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { ReloadResult, ScaleResult, StatusResult } from '../shared/control-protocol.js';
import { RocketError, isErrorCode } from '../shared/errors.js';
import { assertNever, type ApiCommand, type ApiToMaster, type ClusterEvent, type MasterReady, type MasterToApi } from '../shared/protocol.js';

/** `Omit` over each member of a union (plain `Omit` would merge them). */
type Without<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A worker spawned, ready, or exited (with its exit code or signal and why). */
export type WorkerEvent = Without<Extract<ClusterEvent, { t: 'worker' }>, 't'>;
/** The pool grew or shrank, to `workers`, and why (autoscaler, `scale`, SIGTTIN/SIGTTOU). */
export type ScaleEvent = Without<Extract<ClusterEvent, { t: 'scale' }>, 't'>;
/** A rolling reload started, completed, or failed (`reason`; the old workers keep serving). */
export type ReloadEvent = Without<Extract<ClusterEvent, { t: 'reload' }>, 't'>;
/** How the master exited: every worker and the monitor had exited before it. */
export interface ClusterExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Each event of a Cluster handle and the arguments its listeners get. */
export interface ClusterEventMap {
  worker: [event: WorkerEvent];
  scale: [event: ScaleEvent];
  reload: [event: ReloadEvent];
  /** A crash loop (RC_ERR_WORKER_START), or the master lost (RC_ERR_IPC_CLOSED). As for any EventEmitter, without a listener it is thrown. */
  error: [error: RocketError];
  /** The master exited, stopped or not: the handle is done. */
  exit: [exit: ClusterExit];
}

type Listener<E extends keyof ClusterEventMap> = (...args: ClusterEventMap[E]) => void;

/** A running cluster, as `startCluster` returns it. */
export interface Cluster extends EventEmitter {
  /** The cluster's name (`name`, or the app's file name): the CLI reaches it by this name. */
  readonly name: string;
  /** The master's pid. */
  readonly pid: number;
  /** The addresses as bound, in `listen` order, port 0 resolved: `127.0.0.1:41234`, `https://…`, `unix:/…`. */
  readonly addresses: readonly string[];
  /** The admin listener's URL (`admin`), or null. */
  readonly admin: string | null;
  /** The control socket's path, or null if it could not be opened (no writable runtime directory). */
  readonly control: string | null;
  /** Started with `detached: true`: it outlives the caller. */
  readonly detached: boolean;
  /** The master's report (as `GET /status`) and each process's CPU and memory, as `rocket-cluster status --json`. */
  status(): Promise<StatusResult>;
  /** Rolling reload: new workers load the app from disk again, each ready before an old one retires. Rejects (RC_ERR_CONTROL_REFUSED) if refused or aborted. */
  reload(): Promise<ReloadResult>;
  /** Makes `workers` the pool's size (and floor) now. Rejects (RC_ERR_CONTROL_REFUSED) during a reload or a crash loop. */
  scale(workers: number): Promise<ScaleResult>;
  /** Graceful stop; resolves once every process of the cluster has exited. */
  stop(): Promise<ClusterExit>;
  on<E extends keyof ClusterEventMap>(event: E, listener: Listener<E>): this;
  once<E extends keyof ClusterEventMap>(event: E, listener: Listener<E>): this;
  off<E extends keyof ClusterEventMap>(event: E, listener: Listener<E>): this;
  addListener<E extends keyof ClusterEventMap>(event: E, listener: Listener<E>): this;
  removeListener<E extends keyof ClusterEventMap>(event: E, listener: Listener<E>): this;
  emit<E extends keyof ClusterEventMap>(event: E, ...args: ClusterEventMap[E]): boolean;
}

function rocketError(code: string, message: string): RocketError {
  return new RocketError(isErrorCode(code) ? code : 'RC_ERR_CONTROL_REFUSED', message);
}

/** The handle over the master's child process: commands out, events in, over its IPC channel. */
export class ClusterHandle extends EventEmitter implements Cluster {
  readonly name: string;
  readonly pid: number;
  readonly addresses: readonly string[];
  readonly admin: string | null;
  readonly control: string | null;
  readonly detached: boolean;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (result: unknown) => void; reject: (e: RocketError) => void }>();
  #nextId = 1;
  #stopAsked = false;
  readonly #exited: Promise<ClusterExit>;
  #exit: ClusterExit | null = null;

  /** `child` has said ready; `exited` resolves on its exit (registered before ready, so none is missed). */
  constructor(child: ChildProcess, ready: MasterReady, detached: boolean, exited: Promise<ClusterExit>) {
    super();
    this.#child = child;
    this.name = ready.name;
    this.pid = ready.pid;
    this.addresses = ready.addresses;
    this.admin = ready.admin;
    this.control = ready.control;
    this.detached = detached;
    child.on('message', (m: MasterToApi) => this.#onMessage(m));
    this.#exited = exited;
    void exited.then((exit) => this.#onExit(exit));
  }

  status(): Promise<StatusResult> {
    return this.#request({ cmd: 'status' }) as Promise<StatusResult>;
  }

  reload(): Promise<ReloadResult> {
    return this.#request({ cmd: 'reload' }) as Promise<ReloadResult>;
  }

  scale(workers: number): Promise<ScaleResult> {
    if (!Number.isInteger(workers)) return Promise.reject(new RocketError('RC_ERR_CONTROL_REQUEST', `scale(${String(workers)}): expected a whole number of workers`));
    return this.#request({ cmd: 'scale', to: workers }) as Promise<ScaleResult>;
  }

  async stop(): Promise<ClusterExit> {
    if (this.#exit) return this.#exit;
    this.#stopAsked = true;
    // The reply comes once the cluster has stopped; the master's exit (after its last child's) is what resolves.
    await this.#request({ cmd: 'stop' }).catch((e: RocketError) => {
      if (e.code !== 'RC_ERR_IPC_CLOSED') throw e;
    });
    return this.#exited;
  }

  #request(command: ApiCommand): Promise<unknown> {
    if (this.#exit || !this.#child.connected) {
      return Promise.reject(new RocketError('RC_ERR_CONTROL_NOT_RUNNING', `cluster "${this.name}" (master pid ${this.pid}) is not running any more`));
    }
    const id = this.#nextId++;
    // A detached cluster lets the caller's event loop end, but not while a command waits for its answer.
    if (this.detached && this.#pending.size === 0) this.#child.channel?.ref();
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // With a callback, a channel that closed meanwhile fails this request instead of emitting 'error' on the child.
      this.#child.send({ t: 'request', id, command } satisfies ApiToMaster, (error) => {
        if (!error || !this.#pending.delete(id)) return;
        if (this.detached && this.#pending.size === 0) this.#child.channel?.unref();
        reject(new RocketError('RC_ERR_IPC_CLOSED', `cluster "${this.name}": ${command.cmd} not sent: ${error.message}`));
      });
    });
  }

  #onMessage(m: MasterToApi): void {
    switch (m.t) {
      case 'reply': {
        const pending = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if (this.detached && this.#pending.size === 0) this.#child.channel?.unref();
        if (m.ok) pending?.resolve(m.result);
        else pending?.reject(rocketError(m.code, m.message));
        return;
      }
      case 'event':
        return this.#onEvent(m.event);
      case 'exiting': // its exit follows: handled there
      case 'ready':
      case 'failed': // answered to startCluster, before this handle existed
        return;
      default:
        assertNever(m);
    }
  }

  #onEvent(event: ClusterEvent): void {
    if (event.t === 'error') {
      this.emit('error', rocketError(event.code, event.message));
      return;
    }
    const { t, ...rest } = event;
    if (t === 'worker') this.emit('worker', rest as WorkerEvent);
    else if (t === 'scale') this.emit('scale', rest as ScaleEvent);
    else this.emit('reload', rest as ReloadEvent);
  }

  #onExit(exit: ClusterExit): void {
    this.#exit = exit;
    const lost = new RocketError('RC_ERR_IPC_CLOSED', `the master of cluster "${this.name}" (pid ${this.pid}) exited (code ${exit.code}, signal ${exit.signal})`);
    for (const pending of this.#pending.values()) pending.reject(lost);
    this.#pending.clear();
    this.emit('exit', exit);
    // Stopped by stop(), `rocket-cluster stop` or a signal, it exits 0 after a graceful stop; anything else lost the cluster.
    if (!this.#stopAsked && exit.code !== 0) this.emit('error', lost);
  }
}
