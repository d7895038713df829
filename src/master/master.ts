import type http from 'node:http';
import type { ClusterConfig } from '../shared/config.js';
import { MAX_WORKERS } from '../shared/defaults.js';
import { RocketError } from '../shared/errors.js';
import { closeHandle, type NativeHandle } from '../shared/handles.js';
import type { Logger } from '../shared/logger.js';
import type { LogStats, StatusReport } from '../shared/status-report.js';
import { startAdmin } from './admin.js';
import { Autoscaler } from './autoscaler.js';
import { ClusterMetrics } from './cluster-metrics.js';
import { Supervisor } from './supervisor.js';
import { bindAll, closeAll, type BoundListener } from './listener.js';
import { Parking } from './parking.js';
import { WorkerPool } from './pool.js';
import { ConnectionQueue, type PendingConnection } from './queue.js';
import { rejectBusy } from './reject.js';
import type { ScalingOptions } from './scaling.js';
import { pickWorker } from './scheduling.js';
import { buildStatus } from './status.js';
import type { WorkerLink } from './worker-link.js';

/**
 * The Listener and pool manager: binds, accepts paused, queues, dispatches one
 * handle at a time per worker, relays idle connections between workers and the
 * monitor, and stops gracefully. It never reads a client byte and never runs
 * app code; per-connection work here is a queue push and one IPC message.
 */
export class Master {
  readonly #config: ClusterConfig;
  readonly #log: Logger;
  readonly #logStats: () => LogStats;
  readonly #queue: ConnectionQueue;
  readonly #pool: WorkerPool;
  readonly #autoscaler: Autoscaler;
  readonly #supervisor: Supervisor;
  readonly #startedAt = Date.now();
  readonly #parking: Parking;
  /** The scaling policy's options; its bounds change when an operator scales the pool. */
  readonly #scaling: { -readonly [K in keyof ScalingOptions]: ScalingOptions[K] };
  #listeners: BoundListener[] = [];
  #admin: http.Server | null = null;
  #adminUrl: string | null = null;
  #state: StatusReport['state'] = 'starting';
  #nextConnId = 0;
  #turn = 0;
  #counters = { accepted: 0, dispatched: 0, rejected: 0 };
  #startup: { resolve: () => void; reject: (e: Error) => void } | null = null;
  #stopped: Promise<void> | null = null;
  #workersStopped = false;
  #reloading = false;
  /** Everything is being killed: nothing is restarted any more. */
  #closing = false;
  #childrenGone: (() => void) | null = null;

  /** `logStats`: the log sink's counts, for `/status`. */
  constructor(config: ClusterConfig, log: Logger, logStats: () => LogStats) {
    this.#config = config;
    this.#log = log;
    this.#logStats = logStats;
    this.#queue = new ConnectionQueue(config.queueSize);
    this.#pool = new WorkerPool(config, log, {
      ready: (w) => this.#onWorkerReady(w),
      load: () => this.#pump(),
      park: (w, id, handle) => this.#parking.park(id, handle, this.#state !== 'stopping'),
      fatal: (w, code, message) => this.#onWorkerFatal(w, code, message),
      exit: () => {
        // A crash loop: nothing to watch or scale until a reload; no timer keeps running.
        if (this.#pool.errored !== null) this.#setTimers(false);
        this.#onChildExit();
      },
    });
    const busy = () => this.#state !== 'running' || this.#reloading;
    const { minWorkers, maxWorkers, workerConnections, eluFull, eluIdle, scaleDownAfter, queuePerWorker } = config;
    this.#scaling = { minWorkers, maxWorkers, workerConnections, eluFull, eluIdle, scaleDownAfter, queuePerWorker };
    this.#autoscaler = new Autoscaler(this.#scaling, this.#pool, log, () => this.#queue.length, busy);
    this.#supervisor = new Supervisor(config, this.#pool, log, busy);
    this.#parking = new Parking(config, log, {
      ready: () => this.#checkStarted(),
      // The client has a request on the wire: it is served, or answered 503 if workers are already stopping.
      wake: (id, handle, head) => this.#enqueue({ id, handle, head, since: Date.now() }),
      exited: (monitor, code, signal) => {
        if (this.#state === 'stopping' || this.#closing) {
          this.#onChildExit();
          return false;
        }
        if (this.#startup) {
          this.#startup.reject(new RocketError('RC_ERR_MONITOR_START', `monitor exited during start (code ${code}, signal ${signal})`));
          return false;
        }
        return true;
      },
    });
  }

  /** The admin listener's URL, once it listens. */
  get adminUrl(): string | null {
    return this.#adminUrl;
  }

  /** Addresses actually bound (port 0 resolved). */
  get addresses(): readonly string[] {
    return this.#listeners.map((l) => l.address);
  }

  /**
   * Starts the monitor and every worker, waits until all say ready, then binds
   * every address. Rejects (with everything it started stopped) if an app fails
   * to load, a worker does not get ready in time, or an address cannot be bound.
   */
  async start(): Promise<void> {
    const { minWorkers, startTimeout } = this.#config;
    this.#parking.start();
    for (let i = 0; i < minWorkers; i++) this.#pool.spawn();
    try {
      await new Promise<void>((resolve, reject) => {
        this.#startup = { resolve, reject };
        const timer = setTimeout(
          () => reject(new RocketError('RC_ERR_WORKER_START', `workers did not get ready within ${startTimeout} ms`)),
          startTimeout,
        );
        const done = () => clearTimeout(timer);
        this.#startup = { resolve: () => (done(), resolve()), reject: (e) => (done(), reject(e)) };
        this.#checkStarted();
      });
      this.#startup = null;
      this.#listeners = await bindAll(this.#config.listen, (handle) => this.#onConnection(handle));
      if (this.#config.admin) {
        const status = () => this.status();
        const metrics = new ClusterMetrics({ status, workers: () => this.#pool.workers });
        const admin = await startAdmin(this.#config.admin, { status, metrics });
        this.#admin = admin.server;
        this.#adminUrl = admin.url;
        this.#log.info({ address: admin.url }, 'admin listening');
      }
    } catch (error) {
      this.#startup = null;
      await this.#forceStop();
      throw error;
    }
    if (this.#state === 'stopping') {
      // Stopped (a signal, `rocket-cluster stop`) while starting: what was bound after the stop closed nothing must close too.
      await closeAll(this.#listeners);
      this.#admin?.close();
      return;
    }
    this.#state = 'running';
    this.#setTimers(true);
    for (const l of this.#listeners) this.#log.info({ address: l.address }, 'listening');
  }

  /**
   * Graceful stop: no new connections; queued ones are still served; parked
   * sockets are closed; workers finish in-flight requests (answering them with
   * `Connection: close`) and exit. Anything left after `shutdownTimeout` is killed.
   */
  stop(): Promise<void> {
    if (this.#stopped) return this.#stopped;
    this.#state = 'stopping';
    this.#setTimers(false);
    this.#log.info({ queued: this.#queue.length }, 'stopping');
    this.#stopped = (async () => {
      const deadline = setTimeout(() => {
        this.#log.warn({ timeoutMs: this.#config.shutdownTimeout }, 'shutdown timeout: killing what is left');
        void this.#forceStop();
      }, this.#config.shutdownTimeout);
      const gone = new Promise<void>((resolve) => (this.#childrenGone = resolve));
      await closeAll(this.#listeners);
      this.#parking.stop();
      this.#maybeStopWorkers();
      this.#onChildExit();
      await gone;
      clearTimeout(deadline);
      this.#admin?.close();
      this.#log.info('stopped');
    })();
    return this.#stopped;
  }

  /** Kills every child at once (second signal, failed start, shutdown timeout). */
  async #forceStop(): Promise<void> {
    this.#closing = true;
    this.#workersStopped = true;
    this.#setTimers(false);
    this.#pool.stop();
    this.#pool.kill();
    this.#parking.kill();
    for (const item of this.#queue.drain()) closeHandle(item.handle);
    this.#admin?.close();
    await closeAll(this.#listeners);
  }

  kill(): void {
    void this.#forceStop();
  }

  /**
   * Rolling reload: one worker at a time, a new-generation worker (the app
   * read from disk again) must say ready before an old one retires; the old
   * one parks its idle connections (none is closed), finishes in-flight
   * requests and exits. If a new worker fails to start, the reload stops there
   * and the old workers left keep serving. Resolves with the new generation,
   * or with why it was refused (a reload is running, or the cluster is not
   * running) or aborted.
   */
  async reload(): Promise<{ done: true; generation: number } | { done: false; reason: string }> {
    if (this.#state !== 'running' || this.#reloading) {
      const reason = this.#reloading ? 'a reload is running' : `the cluster is ${this.#state}`;
      this.#log.warn({ state: this.#state }, `reload refused: ${reason}`);
      return { done: false, reason };
    }
    this.#reloading = true;
    const generation = ++this.#pool.generation;
    const old = this.#pool.workers.filter((w) => w.generation < generation && !w.retiring);
    // An errored pool may have no worker left: a reload brings it back to min.
    const steps = Math.max(old.length, this.#scaling.minWorkers);
    this.#log.info({ generation, replacing: old.length }, 'reload started');
    try {
      for (let i = 0; i < steps; i++) {
        await this.#pool.replace(old[i]);
        if (this.#state !== 'running') return { done: false, reason: `the cluster is ${this.#state}` };
      }
      this.#log.info({ generation }, 'reload complete');
      this.#setTimers(true); // an errored pool is healthy again
      return { done: true, generation };
    } catch (error) {
      const reason = `reload aborted, the old workers keep serving: ${(error as Error).message}`;
      this.#log.error({ generation, code: (error as RocketError).code }, reason);
      return { done: false, reason };
    } finally {
      this.#reloading = false;
    }
  }

  /** SIGTTIN / SIGTTOU: one worker more or fewer, within the pool's bounds. */
  scaleBy(delta: 1 | -1): void {
    const live = this.#pool.workers.filter((w) => !w.retiring);
    if (this.#state !== 'running' || this.#reloading) return;
    if (delta > 0 && live.length < this.#scaling.maxWorkers) {
      this.#pool.spawn();
      this.#log.info({ workers: live.length + 1 }, 'pool grows by signal');
    } else if (delta < 0 && live.length > this.#scaling.minWorkers) {
      const victim = live.reduce((a, b) => (b.active <= a.active ? b : a));
      void this.#pool.retire(victim);
      this.#log.info({ workers: live.length - 1 }, 'pool shrinks by signal');
    } else {
      this.#log.warn({ workers: live.length, min: this.#scaling.minWorkers, max: this.#scaling.maxWorkers }, 'pool size unchanged: at its bound');
    }
  }

  /**
   * `rocket-cluster scale`: makes `to` (or the live workers + `by`) the pool's
   * floor and starts or retires workers to reach it now. The autoscaler keeps
   * working above it (up to max, which rises to the new size if below it), so
   * a scaled pool still absorbs a spike but never shrinks under the operator's
   * number. Returns the new bounds, or throws why it cannot scale now.
   */
  scaleTo(change: { to?: number; by?: number }): { min: number; max: number; workers: number } {
    if (this.#state !== 'running' || this.#reloading) {
      throw new RocketError('RC_ERR_CONTROL_REFUSED', this.#reloading ? 'cannot scale during a reload' : `cannot scale: the cluster is ${this.#state}`);
    }
    if (this.#pool.errored !== null) {
      throw new RocketError('RC_ERR_CONTROL_REFUSED', `cannot scale a pool in a crash loop (${this.#pool.errored}): fix the app, then reload`);
    }
    const live = this.#pool.workers.filter((w) => !w.retiring);
    const target = change.to ?? live.length + (change.by ?? 0);
    if (target < 1 || target > MAX_WORKERS) {
      throw new RocketError('RC_ERR_CONTROL_REFUSED', `cannot scale to ${target} workers: 1 to ${MAX_WORKERS}`);
    }
    this.#scaling.minWorkers = target;
    this.#scaling.maxWorkers = Math.max(this.#scaling.maxWorkers, target);
    if (target > live.length) {
      for (let i = live.length; i < target; i++) this.#pool.spawn();
      this.#autoscaler.note('grow', target, 'scale command');
    } else if (target < live.length) {
      // The least busy retire: they have the fewest connections to hand back.
      const victims = [...live].sort((a, b) => a.active - b.active).slice(0, live.length - target);
      for (const w of victims) void this.#pool.retire(w);
      this.#autoscaler.note('shrink', target, 'scale command');
    }
    return { min: this.#scaling.minWorkers, max: this.#scaling.maxWorkers, workers: target };
  }

  status(): StatusReport {
    return buildStatus({
      config: this.#config,
      bounds: this.#scaling,
      state: this.#state,
      reloading: this.#reloading,
      startedAt: this.#startedAt,
      listening: this.addresses,
      queue: this.#queue,
      pool: this.#pool,
      monitor: this.#parking.monitor,
      parking: this.#parking.counters,
      recycled: this.#supervisor.recycled,
      scaleEvents: this.#autoscaler.events,
      scaled: this.#autoscaler.totals,
      counters: this.#counters,
      logs: this.#logStats(),
    });
  }

  #setTimers(on: boolean): void {
    if (on && this.#state === 'running') {
      this.#autoscaler.start();
      this.#supervisor.start();
    } else {
      this.#autoscaler.stop();
      this.#supervisor.stop();
    }
  }

  #onConnection(handle: NativeHandle): void {
    this.#counters.accepted++;
    this.#enqueue({ id: ++this.#nextConnId, handle, since: Date.now() });
  }

  #enqueue(item: PendingConnection): void {
    // An errored pool with no worker left cannot serve: answer now rather than queue.
    const hopeless = this.#pool.errored !== null && !this.#pool.workers.some((w) => w.ready);
    if (this.#queue.full || this.#workersStopped || hopeless) {
      this.#counters.rejected++;
      rejectBusy(item.handle);
      return;
    }
    this.#queue.push(item);
    this.#pump();
  }

  /** Sends waiting connections to workers with room, one in flight per worker. */
  #pump(): void {
    const workers = this.#pool.workers;
    while (this.#queue.length > 0) {
      const i = pickWorker(workers, this.#config.workerConnections, this.#turn);
      if (i < 0) break;
      this.#turn = i + 1;
      this.#dispatch(workers[i] as WorkerLink, this.#queue.shift() as PendingConnection);
    }
    this.#maybeStopWorkers();
  }

  #dispatch(worker: WorkerLink, item: PendingConnection): void {
    worker.serve(item.id, item.handle, item.head).then(
      (taken) => {
        if (taken) {
          closeHandle(item.handle);
          this.#counters.dispatched++;
        } else {
          this.#queue.pushFront(item);
        }
        this.#pump();
      },
      (error: RocketError) => {
        // The worker died or hung before taking it: the connection is still ours.
        this.#queue.pushFront(item);
        if (error.code === 'RC_ERR_IPC_TIMEOUT') {
          this.#log.error({ worker: worker.id, workerPid: worker.pid }, 'worker did not acknowledge a connection: killing it');
          worker.kill();
        }
        this.#pump();
      },
    );
  }

  #onWorkerReady(worker: WorkerLink): void {
    this.#log.info({ worker: worker.id, workerPid: worker.pid }, 'worker ready');
    this.#checkStarted();
    this.#pump();
  }

  #onWorkerFatal(worker: WorkerLink, code: string, message: string): void {
    this.#log.error({ worker: worker.id, workerPid: worker.pid, code }, message);
    if (this.#startup) this.#startup.reject(new RocketError('RC_ERR_WORKER_START', message));
  }

  #checkStarted(): void {
    if (!this.#startup) return;
    const ready = this.#pool.workers.filter((w) => w.ready).length;
    if (ready >= this.#scaling.minWorkers && this.#parking.monitor?.state === 'ready') this.#startup.resolve();
  }

  /** Workers are told to stop only once the queue is empty, so no queued client is dropped. */
  #maybeStopWorkers(): void {
    if (this.#state !== 'stopping' || this.#workersStopped || this.#queue.length > 0) return;
    this.#workersStopped = true;
    this.#pool.stop();
  }

  #onChildExit(): void {
    if (this.#startup && this.#pool.workers.length < this.#scaling.minWorkers) {
      this.#startup.reject(new RocketError('RC_ERR_WORKER_START', 'a worker exited before it was ready'));
    }
    if (this.#state !== 'stopping') return;
    this.#pump();
    const monitor = this.#parking.monitor;
    const monitorGone = !monitor || monitor.state === 'exited';
    if (this.#workersStopped && this.#pool.workers.length === 0 && monitorGone) this.#childrenGone?.();
  }
}

