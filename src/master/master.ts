import type http from 'node:http';
import type { ClusterConfig } from '../shared/config.js';
import { RocketError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { LogStats, StatusReport } from '../shared/status-report.js';
import { Autoscaler } from './autoscaler.js';
import { Rebalancer } from './rebalancer.js';
import { Dispatcher } from './dispatcher.js';
import { openAcceptPath, type AcceptPath } from './accept-path.js';
import { watchMasterDescriptors, type MasterDescriptors } from './descriptors.js';
import { MasterLifecycle, type MasterState } from './master-state.js';
import { Parking } from './parking.js';
import { WorkerPool } from './pool.js';
import type { Readiness } from './admin.js';
import { PoolControl, type PoolBounds } from './pool-control.js';
import { WorkerSettings } from './worker-settings.js';
import { Shutdown } from './shutdown.js';
import { StartupGate } from './startup.js';
import { buildStatus } from './status.js';
import { ClusterEvents } from './cluster-events.js';
import type { ClusterEvent } from '../shared/protocol.js';
import { Supervisor } from './supervisor.js';
import { listeningHandleOf, type NativeHandle } from '../shared/node-internals/handles.js';
import type { PendingConnection } from './queue.js';

/** Listening sockets a new master takes over in an upgrade, by --listen index, and the admin one. */
export interface InheritedListeners {
  readonly listen: readonly (NativeHandle | undefined)[];
  readonly admin?: NativeHandle;
}

/** What the master needs of the log sink. */
export interface MasterLogs {
  stats(): LogStats;
  /** Workers (with --log-dir) lost `dropped` lines of their own in all, writing to the file: warn as for the master's. */
  childWritesFailed(reason: string, dropped: number): void;
}

/**
 * The Listener and pool manager. A connection's journey through it: a listener
 * accepts it paused (listener.ts), the dispatcher queues it and sends its
 * handle to the least-loaded worker (dispatcher.ts); when it idles the worker
 * hands it back and parking relays it to the monitor, which returns it to the
 * dispatcher when the client sends again (parking.ts). This class wires those
 * parts, starts and stops them in order (master-state.ts), and answers for the
 * cluster as a whole. It never reads a client byte and never runs app code.
 */
export class Master {
  readonly #config: ClusterConfig;
  readonly #log: Logger;
  readonly #logs: MasterLogs;
  readonly #startedAt = Date.now();
  readonly #life = new MasterLifecycle();
  /** A stop is coming (`--shutdown-delay`): not ready any more, still serving. */
  #stopAnnounced = false;
  /** Listening sockets from the master this one upgrades. */
  readonly #inherited: InheritedListeners | undefined;
  /** This master is handing its connections to a new one (upgrade). */
  #handingOut = false;
  /** During a hand-out: checks whether everything is gone. */
  #handOutProgress: (() => void) | null = null;
  readonly #bounds: PoolBounds;
  readonly #pool: WorkerPool;
  readonly #dispatcher: Dispatcher;
  readonly #parking: Parking;
  readonly #autoscaler: Autoscaler;
  readonly #rebalancer: Rebalancer;
  readonly #supervisor: Supervisor;
  /** The operator's commands on the pool: reload and scale. */
  readonly control: PoolControl;
  readonly #startup = new StartupGate();
  readonly #shutdown: Shutdown;
  /** The master's own file descriptors, sampled on a heartbeat whatever the cluster's state. */
  readonly #descriptors: MasterDescriptors;
  #accept: AcceptPath | null = null;
  /** Certificates, and the config a reload reads again, for the workers started from now on. */
  readonly #workerSettings: WorkerSettings;
  /** Worker, scale and reload events, for a caller of the programmatic API (embedded-main.ts). */
  readonly #observed = new ClusterEvents();
  #admin: { server: http.Server; url: string } | null = null;

  /** Each reload reads the config again with `read` (the config file, the start's flags and environment). */
  readConfigWith(read: () => Promise<ClusterConfig>): void {
    this.#workerSettings.readWith(read);
  }

  /** `logs`: the log sink's counts for `/status`, and where workers' failing log writes are reported. */
  constructor(config: ClusterConfig, log: Logger, logs: MasterLogs, inherited?: InheritedListeners) {
    this.#config = config;
    this.#inherited = inherited;
    this.#log = log;
    this.#logs = logs;
    this.#descriptors = watchMasterDescriptors(log);
    const { minWorkers, maxWorkers, workerConnections, eluFull, eluIdle, scaleDownAfter, queuePerWorker } = config;
    this.#bounds = { minWorkers, maxWorkers, workerConnections, eluFull, eluIdle, scaleDownAfter, queuePerWorker };
    this.#pool = new WorkerPool(config, log, {
      ready: (w) => {
        log.info({ worker: w.id, workerPid: w.pid }, 'worker ready');
        this.#checkStarted();
        this.#accept?.workerReady(w);
        this.#dispatcher.pump();
      },
      load: (w) => {
        if (w.logWrites.dropped > 0) this.#logs.childWritesFailed(w.logWrites.error ?? 'write failed', this.#pool.logDropped);
        this.#accept?.loadChanged();
        this.#dispatcher.pump();
      },
      // During a master upgrade an idle connection goes to the new master (through the diverted queue), not to the monitor.
      park: (_w, id, handle) => (this.#handingOut ? this.#dispatcher.enqueue({ id, handle, since: Date.now() }) : this.#parking.park(id, handle, this.#life.serving)),
      returned: (w, item, outcome) => this.#dispatcher.returned(w, item, outcome),
      surplus: (w, item, why) => {
        this.#accept?.loadChanged();
        if (why === 'limit' || this.#handingOut) return this.#dispatcher.enqueue({ ...item, since: Date.now() }, 'surplus');
        // Shed between requests: idle, so if no other worker has room it waits in the monitor, not the queue
        // (where --queue-timeout would answer a request it never sent). Only plain HTTP connections are shed.
        if (!this.#rebalancer.move(w, item.id, item.handle)) this.#parking.park(item.id, item.handle, this.#life.serving);
      },
      lent: (_w, index, handle) => (this.#accept ? this.#accept.lent(index, handle) : handle.close()),
      fatal: (w, code, message) => {
        log.error({ worker: w.id, workerPid: w.pid, code }, message);
        this.#startup.fail(new RocketError('RC_ERR_WORKER_START', message));
      },
      exit: (w) => {
        this.#accept?.workerGone(w);
        this.#handOutProgress?.();
        // A crash loop: nothing to watch or scale until a reload; no timer keeps running.
        if (this.#pool.errored !== null) this.#setTimers(false);
        this.#onChildExit();
      },
    }, this.#observed);
    this.#workerSettings = new WorkerSettings(config, this.#pool, log);
    this.#dispatcher = new Dispatcher(
      {
        queueSize: config.queueSize,
        queueTimeout: config.queueTimeout,
        workerConnections,
        workers: () => this.#pool.workers,
        // An errored pool with no worker left cannot serve: answer now rather than queue.
        admitting: () => this.#life.dispatching && (this.#pool.errored === null || this.#pool.readyCount > 0),
        sticky: config.sticky === 'ip',
      },
      log,
    );
    this.#parking = new Parking(config, log, {
      ready: () => this.#checkStarted(),
      // The client has a request on the wire: it is served, or answered 503 if workers are already stopping.
      wake: (id, handle, head) => {
        this.#dispatcher.enqueue({ id, handle, ...(head === '' ? {} : { head }), since: Date.now() });
        this.#handOutProgress?.();
      },
      exited: (_monitor, code, signal) => {
        this.#handOutProgress?.();
        const restart = !this.#life.ending && !this.#startup.pending;
        if (this.#life.ending) this.#shutdown.childExited();
        else this.#startup.fail(new RocketError('RC_ERR_MONITOR_START', `monitor exited during start (code ${code}, signal ${signal})`));
        return restart;
      },
    });
    const paused = () => this.#life.state !== 'running';
    this.#autoscaler = new Autoscaler(this.#bounds, this.#config, this.#pool, log, () => this.#dispatcher.queue.length, paused, this.#observed);
    // --sticky ip: a client's connections must not move to another live worker, so nothing is shed.
    this.#rebalancer = new Rebalancer({ eluFull, workerConnections }, this.#pool, log, () => paused() || config.sticky === 'ip');
    this.#supervisor = new Supervisor(config, this.#pool, log, paused);
    this.control = new PoolControl(this.#pool, this.#bounds, this.#autoscaler, this.#life, log, () => this.#setTimers(true), () => this.#workerSettings.beforeReload(), this.#observed);
    this.#shutdown = new Shutdown({
      ...{ config, log, life: this.#life, pool: this.#pool, parking: this.#parking, dispatcher: this.#dispatcher },
      closeListeners: async () => this.#accept?.close(),
      admin: () => this.#admin?.server ?? null,
      pauseTimers: () => this.#setTimers(false),
    });
  }

  /** Running, and not reloading or stopping: an upgrade may start. */
  get running(): boolean {
    return this.#life.state === 'running';
  }

  /** The admin listener's URL, once it listens. */
  get adminUrl(): string | null {
    return this.#admin?.url ?? null;
  }

  /** Addresses actually bound (port 0 resolved). */
  get addresses(): readonly string[] {
    return this.#accept?.addresses ?? [];
  }

  /**
   * Starts the monitor and every worker, waits until all say ready, then binds
   * every address. Rejects (with everything it started stopped) if an app fails
   * to load, a worker does not get ready in time, or an address cannot be bound.
   */
  async start(): Promise<void> {
    this.#workerSettings.atStart();
    this.#parking.start();
    for (let i = 0; i < this.#bounds.minWorkers; i++) this.#pool.spawn();
    try {
      await this.#startup.wait(this.#config.startTimeout, () => this.#started());
      const inherited = this.#inherited?.listen;
      this.#accept = await openAcceptPath(this.#config, this.#log, { workers: () => this.#pool.workers, accept: (h, listener) => this.#dispatcher.accept(h, listener), ...(inherited ? { inherited } : {}) });
      await this.#accept.start();
      // prom-client and the dashboard are loaded only with --admin.
      if (this.#config.admin) this.#admin = await (await import('./admin.js')).startAdmin(this.#config.admin, this.#adminSources(), this.#log, this.#inherited?.admin);
    } catch (error) {
      await this.#shutdown.force();
      throw error;
    }
    if (this.#life.ending) {
      // Stopped (a signal, `rocket-cluster stop`) while starting: what was bound after the stop closed nothing must close too.
      await this.#accept?.close();
      this.#admin?.server.close();
      return;
    }
    this.#life.to('running');
    this.#setTimers(true);
    for (const address of this.addresses) this.#log.info({ address, accept: this.#accept?.mode }, 'listening');
  }

  /**
   * Graceful stop: no new connections; queued ones are still served; parked
   * sockets are closed; workers finish in-flight requests (answering them with
   * `Connection: close`) and exit. Anything left after `shutdownTimeout` is killed.
   */
  stop(): Promise<void> {
    return this.#shutdown.graceful();
  }

  /** The listening sockets a new master inherits in an upgrade: every --listen one, in order, and the admin one. */
  upgradeListeners(): { listen: NativeHandle[]; admin: NativeHandle | null } {
    const admin = this.#admin ? listeningHandleOf(this.#admin.server) : null;
    return { listen: this.#accept?.handles() ?? [], admin };
  }

  /**
   * The old master's half of an upgrade, once the new master is ready: accept
   * no more (without unlinking a unix socket the new one serves on), send
   * every connection that would wait or park here to `handOver`, retire every
   * worker (each hands its idle connections back as soon as they are between
   * requests and finishes what is in flight) and have the monitor release what
   * it holds. Resolves once no worker is left and the monitor has exited.
   */
  handOut(handOver: (item: PendingConnection) => void): Promise<void> {
    this.#handingOut = true;
    this.#life.to('stopping');
    this.#setTimers(false);
    this.#accept?.release();
    this.#admin?.server.close();
    this.#dispatcher.divert(handOver);
    this.#parking.release();
    for (const w of [...this.#pool.workers]) void this.#pool.retire(w);
    return new Promise((resolve) => {
      this.#handOutProgress = () => {
        if (this.#pool.workers.length > 0 || (this.#parking.monitor?.parked ?? 0) > 0) return;
        const monitor = this.#parking.monitor;
        if (monitor && monitor.state !== 'exited') return this.#parking.stop();
        this.#handOutProgress = null;
        resolve();
      };
      this.#handOutProgress();
    });
  }

  /** A connection the old master handed over in an upgrade: served as a new or woken one. */
  adopt(handle: NativeHandle, head: string | undefined, listener: number | undefined): void {
    this.#dispatcher.adopt(handle, head, listener);
  }

  /** Kills every child at once (second signal). */
  kill(): void {
    void this.#shutdown.force();
  }

  /** Calls `listener` after every change of the master's state (master-state.ts): systemd's notifications follow them. */
  onStateChange(listener: (state: MasterState, from: MasterState) => void): void {
    this.#life.onChange(listener);
  }

  /** Calls `listener` with every worker, scale, reload and error event (src/shared/protocol.ts ClusterEvent). */
  onEvent(listener: (event: ClusterEvent) => void): void {
    this.#observed.on(listener);
  }

  /** The sink's counts, with the lines workers lost writing to the log file themselves. */
  #logStatus(): LogStats {
    const own = this.#logs.stats();
    return { ...own, dropped: own.dropped + this.#pool.logDropped, droppedByWorkers: this.#pool.logDropped };
  }

  /** With --log-dir, after a rotation or reopen: where every worker appends its own lines now. */
  logFileChanged(file: string): void {
    for (const worker of this.#pool.workers) worker.logFile(file);
  }

  status(): StatusReport {
    const parts = { dispatcher: this.#dispatcher, pool: this.#pool, parking: this.#parking, supervisor: this.#supervisor, autoscaler: this.#autoscaler, rebalancer: this.#rebalancer };
    return buildStatus({ config: this.#config, bounds: this.#bounds, life: this.#life, startedAt: this.#startedAt, listening: this.addresses, logs: this.#logStatus(), accept: this.#accept?.mode ?? this.#config.accept, masterAccepting: this.#accept?.masterAccepting ?? false, descriptors: this.#descriptors.state, ...parts });
  }

  #adminSources() {
    return { status: () => this.status(), workers: () => this.#pool.workers, readiness: () => this.readiness() };
  }

  /**
   * Whether a load balancer should send traffic here: a worker is ready, the
   * pool is not in a crash loop, and no stop has begun or been announced
   * (`--shutdown-delay`). `/readyz` answers it.
   */
  readiness(): Readiness {
    if (this.#stopAnnounced || this.#life.ending) return { ready: false, reason: 'stopping' };
    if (this.#life.state === 'starting') return { ready: false, reason: 'starting' };
    if (this.#pool.errored !== null) return { ready: false, reason: `errored: ${this.#pool.errored}` };
    if (this.#pool.readyCount === 0) return { ready: false, reason: 'no worker is ready' };
    return { ready: true };
  }

  /**
   * The start of a stop that waits `--shutdown-delay`: from now `/readyz`
   * answers 503, while the cluster goes on accepting and serving, so that a
   * load balancer (Kubernetes removes a pod from its endpoints while SIGTERM
   * is on its way) stops sending before the listeners close.
   */
  announceStop(): void {
    this.#stopAnnounced = true;
  }

  /** Enough workers and the monitor are ready: the start can bind. */
  #started(): boolean {
    return this.#pool.readyCount >= this.#bounds.minWorkers && this.#parking.monitor?.state === 'ready';
  }

  #checkStarted(): void {
    if (this.#startup.pending && this.#started()) this.#startup.pass();
  }

  /** The autoscaler, rebalancer and supervisor tick only while running. */
  #setTimers(on: boolean): void {
    for (const timer of [this.#autoscaler, this.#rebalancer, this.#supervisor]) {
      if (on && this.#life.state === 'running') timer.start();
      else timer.stop();
    }
  }

  /** A child exited: a start that can no longer succeed fails; a stop may be complete. */
  #onChildExit(): void {
    if (this.#startup.pending && this.#pool.workers.length < this.#bounds.minWorkers) {
      this.#startup.fail(new RocketError('RC_ERR_WORKER_START', 'a worker exited before it was ready'));
    }
    this.#shutdown.childExited();
  }
}
