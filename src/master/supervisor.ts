import type { ClusterConfig } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { hungReason, LIVENESS_CHECK_MS } from './liveness.js';
import type { WorkerPool } from './pool.js';
import { Ticker } from './ticker.js';
import type { WorkerLink } from './worker-link.js';

/**
 * Watches each worker: one whose event loop stops answering (no report for
 * `workerTimeout`; workers report at least every 0.5 s) or that does not get
 * ready within `startTimeout` is killed, and the pool replaces it. One past
 * `maxRequests` (+ its jitter) or `maxMemory` is recycled: a new worker first,
 * then the old one retires without closing a connection.
 */
export class Supervisor {
  readonly #config: ClusterConfig;
  readonly #pool: WorkerPool;
  readonly #log: Logger;
  readonly #paused: () => boolean;
  readonly #ticker = new Ticker(LIVENESS_CHECK_MS, () => this.#tick());
  recycled = 0;

  constructor(config: ClusterConfig, pool: WorkerPool, log: Logger, paused: () => boolean) {
    this.#config = config;
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

  #tick(): void {
    const now = Date.now();
    for (const w of this.#pool.workers) {
      const hung = hungReason(w, now, this.#config);
      if (hung !== null) {
        this.#kill(w, hung);
      } else if (w.ready && !w.recycling && !this.#paused()) {
        const mb = this.#config.maxMemory;
        if (w.served >= w.requestLimit) this.#recycle(w, `served ${w.served} requests (limit ${w.requestLimit})`);
        else if (mb > 0 && w.rss > mb * 1024 * 1024) this.#recycle(w, `RSS ${Math.round(w.rss / 1048576)} MB above --max-memory ${mb} MB`);
      }
    }
  }

  #kill(worker: WorkerLink, reason: string): void {
    this.#log.error({ worker: worker.id, workerPid: worker.pid, reason }, 'worker hung: killing it');
    worker.kill();
  }

  #recycle(worker: WorkerLink, reason: string): void {
    worker.recycling = true;
    this.recycled++;
    this.#log.info({ worker: worker.id, workerPid: worker.pid, reason }, 'recycling worker');
    this.#pool.replace(worker).catch((error: Error) => {
      worker.recycling = false; // try again on a later tick
      this.#log.error({ worker: worker.id }, `recycling failed, the worker keeps serving: ${error.message}`);
    });
  }
}
