import type { ClusterConfig } from '../shared/config.js';
import { APP_ENV } from '../shared/defaults.js';
import { RocketError } from '../shared/errors.js';
import type { HandleOutcome } from '../shared/channel.js';
import { closeHandle, type NativeHandle } from '../shared/node-internals/handles.js';
import { assertNever, type MasterToWorker, type TlsMaterial, type MetricsJson, type ParkingState, type SurplusReason, type WorkerLoad, type WorkerToMaster } from '../shared/protocol.js';
import { ChildLink } from './child-link.js';
import { Replies } from './replies.js';
import type { PendingConnection } from './queue.js';
import type { WorkerSnapshot } from './scheduling.js';

export interface WorkerEvents {
  ready(worker: WorkerLink): void;
  /** The worker's load changed: it may take more connections. */
  load(worker: WorkerLink): void;
  /** The worker hands back an idle keep-alive connection; the master now owns `handle`. */
  park(worker: WorkerLink, id: number, handle: NativeHandle): void;
  fatal(worker: WorkerLink, code: string, message: string): void;
  /**
   * A connection sent to this worker came back untaken (refused, the worker
   * died, or it did not answer in time: then it has been killed already). The
   * master owns `handle` again; `head` is what must still be replayed.
   */
  returned(worker: WorkerLink, item: Omit<PendingConnection, 'since'>, outcome: Exclude<HandleOutcome, 'taken'>): void;
  /** The worker handed a connection over (accepted over its limit, or shed); the master now owns `handle`. */
  surplus(worker: WorkerLink, item: Omit<PendingConnection, 'since' | 'head'>, why: SurplusReason): void;
  /** A copy of shared listening socket `index` the master asked for (`lend`); the master owns it. */
  lent(worker: WorkerLink, index: number, handle: NativeHandle): void;
  exit(worker: WorkerLink, code: number | null, signal: NodeJS.Signals | null): void;
}

/** One worker process: serves connections the master sends it. */
export class WorkerLink extends ChildLink<WorkerToMaster, MasterToWorker> implements WorkerSnapshot {
  readonly #events: WorkerEvents;
  /** Its slot, 0 to max − 1: ROCKET_WORKER_ID in its environment (slots.ts). */
  readonly slot: number;
  /** Which reload this worker belongs to (1 for the first workers). */
  readonly generation: number;
  /** Resolves once the worker said ready; rejects if it failed or exited first. */
  readonly started: Promise<void>;
  #startedSettle!: { resolve: () => void; reject: (e: Error) => void };
  #reported: WorkerLoad = { active: 0, served: 0, received: 0, accepted: 0, elu: 0, rss: 0, logDropped: 0 };
  #parking: ParkingState | null = null;
  #sent = 0;
  readonly #scrapes = new Replies<MetricsJson>();
  /** Told to retire: its exit is expected and it is not replaced. */
  retiring = false;
  /** A replacement is starting; it retires once that one is ready. */
  recycling = false;
  /**
   * Started by a reload or a recycle and not ready yet: if it exits now, the
   * reload fails (the old workers keep serving); it is not a pool member to
   * restart, nor a death that counts toward a crash loop.
   */
  onTrial = false;
  /** Requests after which it is recycled: --max-requests plus a random share of the jitter. */
  readonly requestLimit: number;

  constructor(id: number, slot: number, generation: number, config: ClusterConfig, tls: readonly TlsMaterial[], events: WorkerEvents) {
    super('worker', id, config, { [APP_ENV.workerId]: String(slot), [APP_ENV.appInstance]: String(slot) });
    this.slot = slot;
    // First on the channel, so it is there before any TLS connection is.
    if (tls.length > 0) this.channel.post({ t: 'tls', listeners: tls });
    this.generation = generation;
    this.#events = events;
    this.requestLimit = config.maxRequests > 0 ? config.maxRequests + Math.floor(Math.random() * (config.maxRequestsJitter + 1)) : Infinity;
    this.started = new Promise((resolve, reject) => (this.#startedSettle = { resolve, reject }));
    this.started.catch(() => {}); // a failed start is reported through events too
  }

  /** With --log-dir: lines the worker lost writing its own log lines (a full disk), and the first error. */
  get logWrites(): { dropped: number; error: string | undefined } {
    return { dropped: this.#reported.logDropped, error: this.#reported.logError };
  }

  /** With --log-dir: the file the worker appends its own lines to from now on. */
  logFile(file: string): void {
    this.channel.post({ t: 'log-file', file });
  }

  /** When it was last asked to shed connections (ms since epoch); -Infinity if never. */
  lastShedAt = -Infinity;

  /** Asks it to hand `count` connections back between requests, within `withinMs` (a rebalance). */
  shed(count: number, withinMs: number): void {
    this.lastShedAt = Date.now();
    this.channel.post({ t: 'shed', count, withinMs });
  }

  /** Stops getting connections; parks its idle ones, finishes in-flight requests, runs the app's shutdown hook and exits, within `withinMs`. */
  retire(withinMs: number): void {
    if (this.state !== 'ready' && this.state !== 'spawning') return;
    this.retiring = true;
    this.state = 'draining';
    this.channel.post({ t: 'retire', withinMs });
  }

  /**
   * Connections the worker holds: its last report plus those sent since that
   * report was written. Exact whatever order acks and reports arrive in, so the
   * worker need not report when it takes a connection, only when one leaves.
   */
  get active(): number {
    return this.#reported.active + (this.#sent - this.#reported.received);
  }

  get served(): number {
    return this.#reported.served;
  }

  /** Whether it can hand connections back, as it said when ready; null before. */
  get parking(): ParkingState | null {
    return this.#parking;
  }

  /** Resident memory in bytes, from its last report (sampled at most every 0.5 s); 0 before the first. */
  get rss(): number {
    return this.#reported.rss;
  }

  /** When its last load report (or its ready message) arrived, ms since epoch; -Infinity before. */
  reportedAt = -Infinity;

  /** Times it ran out of file descriptors, and its open descriptors and soft limit, from its last report (null: unknown). */
  get descriptors(): { exhausted: number; open: number | null; limit: number | null } {
    const r = this.#reported;
    return { exhausted: r.fdExhausted ?? 0, open: r.fdOpen ?? null, limit: r.fdLimit ?? null };
  }

  /**
   * Out of file descriptors as of its last report: a descriptor sent to it now
   * would be dropped by the kernel on the way (and, after three tries, closed
   * by Node in the sender), so no connection is sent to it until it has some again.
   */
  get outOfDescriptors(): boolean {
    return this.#reported.fdOut === true;
  }

  /** Event-loop utilization over the worker's last report interval (at most 0.5 s old). */
  get elu(): number {
    return this.#reported.elu;
  }

  /**
   * Counts as capacity: said ready, not retiring, and its channel still open.
   * The channel can close (the process died) before its exit event is seen; a
   * connection re-queued then must not be offered to the same worker again,
   * which would fail at once and loop.
   */
  get ready(): boolean {
    return this.state === 'ready' && this.channel.connected;
  }

  /** A connection is on its way to this worker and not yet acknowledged. */
  get busy(): boolean {
    return this.channel.busy;
  }

  /** Sends a connection; resolves with its outcome, after `events.returned` for one not taken. */
  async serve(item: Omit<PendingConnection, 'since'>): Promise<HandleOutcome> {
    const { id, head, listener } = item;
    const message: MasterToWorker = { t: 'conn', id, ...(head === undefined ? {} : { head }), ...(listener === undefined ? {} : { listener }) };
    const outcome = await this.channel.sendHandle(message, item.handle);
    if (outcome === 'taken') this.#sent++;
    return outcome;
  }

  /** Lends the worker shared listening socket `index`; resolves true once it accepts on it. */
  async listen(index: number, socket: NativeHandle, limit: number): Promise<boolean> {
    return (await this.channel.shareHandle({ t: 'listen', index, limit }, socket)) === 'taken';
  }

  /** Connections this worker accepted itself (from its reports). */
  get accepted(): number {
    return this.#reported.accepted;
  }

  protected override reclaim(message: MasterToWorker, handle: NativeHandle, outcome: Exclude<HandleOutcome, 'taken'>): void {
    if (outcome === 'timeout') this.kill(); // hung, and may hold a copy: it must not serve this connection later
    if (message.t === 'conn') {
      const { id, head, listener } = message;
      this.#events.returned(this, { id, handle, ...(head === undefined ? {} : { head }), ...(listener === undefined ? {} : { listener }) }, outcome);
    }
    else closeHandle(handle);
  }

  /** The worker's prom-client metrics; rejects (coded) if it does not answer within `timeoutMs` or exits first. */
  scrape(timeoutMs: number): Promise<MetricsJson> {
    if (!this.channel.connected) return Promise.reject(new RocketError('RC_ERR_IPC_CLOSED', 'worker channel closed before a scrape'));
    return this.#scrapes.ask((id) => this.channel.post({ t: 'scrape', id }), timeoutMs, 'metrics');
  }

  protected override exited(code: number | null, signal: NodeJS.Signals | null): void {
    this.#startedSettle.reject(new RocketError('RC_ERR_WORKER_START', `worker exited before it was ready (code ${code}, signal ${signal})`));
    this.#scrapes.failAll('metrics');
    this.#events.exit(this, code, signal);
  }

  protected override shutdownMessage(withinMs: number | undefined): MasterToWorker {
    return withinMs === undefined ? { t: 'shutdown' } : { t: 'shutdown', withinMs };
  }

  protected override receive(m: WorkerToMaster, handle: NativeHandle | undefined): boolean {
    this.lastHeard = Date.now();
    switch (m.t) {
      case 'ready':
        this.#reported = m;
        this.reportedAt = this.lastHeard;
        this.#parking = m.parking;
        if (this.state === 'spawning') this.state = 'ready';
        this.#startedSettle.resolve();
        this.#events.ready(this);
        return true;
      case 'load':
        this.#reported = m;
        this.reportedAt = this.lastHeard;
        this.#events.load(this);
        return true;
      case 'park':
        if (!handle) return false;
        this.#events.park(this, m.id, handle);
        return true;
      case 'surplus':
        if (!handle) return false;
        this.#reported = { ...this.#reported, active: m.active, received: m.received };
        this.#events.surplus(this, { id: m.id, handle, ...(m.listener === undefined ? {} : { listener: m.listener }) }, m.why);
        return true;
      case 'lent':
        if (!handle) return false;
        this.#events.lent(this, m.index, handle);
        return true;
      case 'metrics':
        this.#scrapes.settle(m.id, m.metrics);
        return true;
      case 'fatal':
        this.#startedSettle.reject(new RocketError('RC_ERR_WORKER_START', m.message));
        this.#events.fatal(this, m.code, m.message);
        return true;
      case 'ack':
        return true; // settled by the channel; never reaches here
      default:
        return assertNever(m);
    }
  }
}
