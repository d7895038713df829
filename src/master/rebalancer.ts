import type { Logger } from '../shared/logger.js';
import type { WorkerPool } from './pool.js';
import type { NativeHandle } from '../shared/node-internals/handles.js';
import { pickWorker, planShed } from './scheduling.js';
import type { WorkerLink } from './worker-link.js';
import { Ticker } from './ticker.js';

const TICK_MS = 250;
/**
 * A worker sheds within this: a busy keep-alive client is between requests
 * many times a second, and a count still owed after that is stale.
 */
const SHED_WITHIN_MS = 1000;

/**
 * Moves keep-alive connections off saturated workers (see `planShed`): asks
 * each such worker to hand its excess back between requests, and the master
 * dispatches them like any surplus, to the least-loaded worker. Works on a
 * fixed pool too (a replacement worker after a crash starts with nothing).
 * Holds while `paused()` (starting, reloading, stopping).
 */
export class Rebalancer {
  /** Shed requests sent, and connections handed over for a rebalance. */
  readonly counters = { sheds: 0, moved: 0 };
  readonly #pool: WorkerPool;
  readonly #log: Logger;
  readonly #eluFull: number;
  readonly #paused: () => boolean;
  readonly #ticker = new Ticker(TICK_MS, () => this.#tick());

  readonly #workerConnections: number;

  constructor(o: { eluFull: number; workerConnections: number }, pool: WorkerPool, log: Logger, paused: () => boolean) {
    this.#eluFull = o.eluFull;
    this.#workerConnections = o.workerConnections;
    this.#pool = pool;
    this.#log = log;
    this.#paused = paused;
  }

  start(): void {
    this.#ticker.start();
  }

  stop(): void {
    this.#ticker.stop();
  }

  /**
   * A connection `from` shed: sent straight to the least-loaded other worker
   * with room. Not through the queue, whose dispatch skips a worker with a
   * handle in flight and would hand it back to `from` while the target acks
   * the previous one; the target's channel sends them one after another. A
   * connection it does not take comes back to the queue as any returned one.
   * False if no other worker has room: then the queue must take it.
   */
  move(from: WorkerLink, id: number, handle: NativeHandle): boolean {
    this.counters.moved++;
    const workers = this.#pool.live;
    // Moves still in flight count: several in a row must not all go to the one that was least loaded.
    const view = workers.map((w) => ({ ready: w.ready && w !== from, busy: false, active: w.active + w.channel.pendingHandles, generation: w.generation, outOfDescriptors: w.outOfDescriptors }));
    const target = workers[pickWorker(view, this.#workerConnections)];
    if (!target) return false;
    void target.serve({ id, handle });
    return true;
  }

  #tick(): void {
    if (this.#paused()) return;
    const workers = this.#pool.live;
    const now = Date.now();
    const snapshot = workers.map((w) => ({ ready: w.ready, canShed: w.parking?.enabled === true, active: w.active, elu: w.elu, lastShedAt: w.lastShedAt }));
    for (const { index, count } of planShed(snapshot, this.#eluFull, now)) {
      const w = workers[index];
      if (!w) continue;
      this.counters.sheds++;
      this.#log.info({ worker: w.id, workerPid: w.pid, count, connections: w.active, elu: w.elu }, 'rebalancing: worker saturated, moving connections');
      w.shed(count, SHED_WITHIN_MS);
    }
  }
}
