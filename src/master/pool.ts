import type { ClusterConfig } from '../shared/config.js';
import { EXIT_GRACE_MS } from '../shared/defaults.js';
import { RocketError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { TlsMaterial, WorkerExitReason } from '../shared/protocol.js';
import { pickSlot } from './slots.js';
import type { ClusterEvents } from './cluster-events.js';
import { WorkerLink, type WorkerEvents } from './worker-link.js';

/** A worker that dies sooner than this after its start counts toward the backoff. */
const QUICK_DEATH_MS = 10_000;
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 10_000;
/** Workers dying young this many times in a row is a crash loop: respawning stops. */
const CRASH_LOOP_DEATHS = 5;
/** A worker process that could not be started at all (EMFILE, EAGAIN) is tried again this often. */
const SPAWN_RETRY_MS = 250;

/**
 * The worker processes: starts them, replaces one that dies (after an
 * exponential backoff while they keep dying young), stops respawning in a crash
 * loop ("errored": no timer, no CPU, until a reload), and stops them all.
 */
export class WorkerPool {
  readonly workers: WorkerLink[] = [];
  /** What new workers start with: the master's config, with a reload's reloaded settings (see reconfigure.ts). */
  config: ClusterConfig;
  readonly #log: Logger;
  readonly #events: Omit<WorkerEvents, 'exit'> & { exit?: WorkerEvents['exit'] };
  /** Each worker's start, readiness and exit, for the programmatic API's `worker` events. */
  readonly #observed: ClusterEvents | undefined;
  #nextId = 1;
  #acceptedByExited = 0;
  #logDroppedByExited = 0;
  #fdExhaustedByExited = 0;
  #droppedByExited = 0;
  #quickDeaths = 0;
  /** The last start of a worker process failed (EMFILE, EAGAIN): its retries are not logged again. */
  #spawnFailing = false;
  #stopping = false;
  #respawnTimers = new Set<NodeJS.Timeout>();
  restarts = 0;
  /** Why respawning stopped (a crash loop); null while healthy. */
  errored: string | null = null;
  /** Generation new workers belong to; a reload starts the next one. */
  generation = 1;
  /** Certificates of the https:// addresses, sent to each new worker: read at start, read again by each reload. */
  tls: readonly TlsMaterial[] = [];

  constructor(config: ClusterConfig, log: Logger, events: Omit<WorkerEvents, 'exit'> & { exit?: WorkerEvents['exit'] }, observed?: ClusterEvents) {
    this.#observed = observed;
    this.config = config;
    this.#log = log;
    this.#events = events;
  }

  /** Workers that count toward the pool's size: not retiring, not exited. */
  get live(): WorkerLink[] {
    return this.workers.filter((w) => !w.retiring && w.state !== 'exited');
  }

  /** Connections workers accepted themselves, those that exited included. */
  get accepted(): number {
    let n = this.#acceptedByExited;
    for (const w of this.workers) n += w.accepted;
    return n;
  }

  /** With --log-dir: workers' own log lines lost to write errors, those of exited workers included. */
  get logDropped(): number {
    let n = this.#logDroppedByExited;
    for (const w of this.workers) n += w.logWrites.dropped;
    return n;
  }

  /** Times workers ran out of file descriptors, those that exited included. */
  get fdExhausted(): number {
    let n = this.#fdExhaustedByExited;
    for (const w of this.workers) n += w.descriptors.exhausted;
    return n;
  }

  /** Connections lost on their way to a worker that was out of descriptors, those of exited workers included. */
  get droppedOnTheWay(): number {
    let n = this.#droppedByExited;
    for (const w of this.workers) n += w.droppedOnTheWay;
    return n;
  }

  /** The workers' total resident memory in bytes from their last reports, retiring ones included (they hold it until they exit). */
  get rss(): number {
    let n = 0;
    for (const w of this.workers) if (w.state !== 'exited') n += w.rss;
    return n;
  }

  /** Workers that said ready and can take connections. */
  get readyCount(): number {
    let n = 0;
    for (const w of this.workers) if (w.ready) n++;
    return n;
  }

  /**
   * Starts a worker in slot `slot` (that of a dead worker it replaces) if no
   * live worker holds it, else in the lowest free slot (slots.ts). One that
   * replaces a live worker (`replacing`: reload, recycling) takes its slot.
   */
  spawn(slot?: number, replacing?: WorkerLink): WorkerLink {
    const held = this.live.filter((w) => w !== replacing).map((w) => w.slot);
    const at = pickSlot(held, replacing?.slot ?? slot);
    const ready = (w: WorkerLink) => {
      this.#observe(w, { event: 'ready' });
      this.#events.ready(w);
    };
    const worker = new WorkerLink(this.#nextId++, at, this.generation, this.config, this.tls, { ...this.#events, ready, exit: (w, code, signal) => this.#onExit(w, code, signal) });
    this.workers.push(worker);
    this.#log.info({ worker: worker.id, slot: worker.slot, workerPid: worker.pid, generation: worker.generation }, 'worker spawned');
    this.#observe(worker, { event: 'spawned' });
    return worker;
  }

  /**
   * Starts a worker of the current generation and, once it is ready, retires
   * `old` (reload, recycling). If the new one fails to start it is killed, the
   * old one is left serving, and the error is thrown. The new worker takes
   * `old`'s slot at once: until `old` has exited, two processes have it.
   */
  async replace(old: WorkerLink | undefined): Promise<void> {
    const fresh = this.spawn(undefined, old);
    fresh.onTrial = true;
    try {
      await withTimeout(fresh.started, this.config.startTimeout, `new worker not ready within ${this.config.startTimeout} ms`);
    } catch (error) {
      fresh.retiring = true; // its exit is expected: not a crash to restart
      fresh.kill();
      throw error;
    } finally {
      fresh.onTrial = false;
    }
    this.#quickDeaths = 0;
    this.errored = null;
    if (old) await this.retire(old);
  }

  /**
   * Retires a worker (reload, scale-down, recycling): it stops getting
   * connections, hands its idle ones back, runs the app's shutdown hook and
   * exits; it has `drainTimeout` for that, and is killed EXIT_GRACE_MS after.
   * Resolves on exit.
   */
  async retire(worker: WorkerLink): Promise<void> {
    const exited = new Promise<void>((resolve) => worker.child.once('exit', () => resolve()));
    if (worker.state === 'exited') return;
    worker.retire(this.config.drainTimeout);
    const timer = setTimeout(() => {
      this.#log.warn({ worker: worker.id, workerPid: worker.pid, drainTimeoutMs: this.config.drainTimeout }, 'retiring worker did not finish in time: killing it');
      worker.kill();
    }, this.config.drainTimeout + EXIT_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  /**
   * Asks every worker to finish and exit, within `withinMs` if given (what is
   * left of --shutdown-timeout); none is replaced from now on.
   */
  stop(withinMs?: number): void {
    this.#stopping = true;
    for (const t of this.#respawnTimers) clearTimeout(t);
    this.#respawnTimers.clear();
    for (const w of this.workers) w.stop(withinMs);
  }

  kill(): void {
    for (const w of this.workers) w.kill();
  }

  #onExit(worker: WorkerLink, code: number | null, signal: NodeJS.Signals | null): void {
    const at = this.workers.indexOf(worker);
    if (at >= 0) this.workers.splice(at, 1);
    this.#acceptedByExited += worker.accepted;
    this.#logDroppedByExited += worker.logWrites.dropped;
    this.#fdExhaustedByExited += worker.descriptors.exhausted;
    this.#droppedByExited += worker.droppedOnTheWay;
    const lived = Date.now() - worker.startedAt;
    const expected = this.#stopping || worker.retiring || worker.onTrial;
    const reason: WorkerExitReason =
      worker.spawnError !== null ? 'spawn-failed' : this.#stopping ? 'stopped' : worker.onTrial ? 'failed-start' : worker.retiring ? 'retired' : 'crashed';
    this.#observe(worker, { event: 'exited', code, signal, reason });
    if (worker.spawnError !== null) return this.#spawnFailed(worker, code, signal);
    this.#log[expected ? 'info' : 'warn']({ worker: worker.id, workerPid: worker.pid, code, signal, livedMs: lived }, 'worker exited');
    this.#events.exit?.(worker, code, signal);
    if (expected) return;
    this.#quickDeaths = lived < QUICK_DEATH_MS ? this.#quickDeaths + 1 : 0;
    if (this.#quickDeaths >= CRASH_LOOP_DEATHS) {
      this.errored = `${this.#quickDeaths} workers in a row died within ${QUICK_DEATH_MS} ms of starting (last: code ${code}, signal ${signal})`;
      this.#log.error({ reason: this.errored }, 'crash loop: workers are no longer restarted until a reload');
      this.#observed?.emit({ t: 'error', code: 'RC_ERR_WORKER_START', message: `crash loop: workers are no longer restarted until a reload: ${this.errored}` });
      return;
    }
    const delay = this.#quickDeaths === 0 ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (this.#quickDeaths - 1));
    this.#respawnAfter(delay, true, worker.slot);
  }

  /**
   * The process could not be started at all: the master is out of descriptors
   * (EMFILE) or the system out of processes (EAGAIN). Not the app's fault, so
   * no step toward a crash loop (which would stop restarts until a reload),
   * and not a restart: the start is tried again every SPAWN_RETRY_MS until it
   * succeeds, logged once per streak of failures. A retiring worker or a
   * stopping pool is not retried.
   */
  #spawnFailed(worker: WorkerLink, code: number | null, signal: NodeJS.Signals | null): void {
    this.#events.exit?.(worker, code, signal);
    if (this.#stopping || worker.retiring) return;
    if (!this.#spawnFailing) {
      this.#spawnFailing = true;
      this.#log.error({ worker: worker.id, error: worker.spawnError, retryMs: SPAWN_RETRY_MS }, 'could not start a worker process: trying again until it starts');
    }
    this.#respawnAfter(SPAWN_RETRY_MS, false, worker.slot);
  }

  #observe(w: WorkerLink, what: { event: 'spawned' | 'ready' } | { event: 'exited'; code: number | null; signal: string | null; reason: WorkerExitReason }): void {
    this.#observed?.emit({ t: 'worker', id: w.id, pid: w.pid ?? null, generation: w.generation, ...what });
  }

  /** The replacement takes `slot`, the dead worker's, unless a worker started meanwhile (a scale-up) took it. */
  #respawnAfter(delay: number, isRestart: boolean, slot: number): void {
    const timer = setTimeout(() => {
      this.#respawnTimers.delete(timer);
      if (this.#stopping) return;
      if (isRestart) this.restarts++;
      const worker = this.spawn(slot);
      // A failed start is known at once (no pid); its 'error' comes on the next tick.
      if (worker.pid !== undefined && this.#spawnFailing) {
        this.#spawnFailing = false;
        this.#log.info({ worker: worker.id, workerPid: worker.pid }, 'a worker process started again');
      }
    }, delay);
    this.#respawnTimers.add(timer);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new RocketError('RC_ERR_WORKER_START', message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
