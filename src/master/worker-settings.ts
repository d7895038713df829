import type { ClusterConfig } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { checkCwd } from './preflight.js';
import type { ReloadChanges } from './pool-control.js';
import type { WorkerPool } from './pool.js';
import { reconfigure } from './reconfigure.js';
import { loadTlsMaterial } from './tls-material.js';

/**
 * What the pool's new workers start with: the certificates of the https://
 * addresses, read at start and again by each reload, and, when the master
 * knows how it was started, the config read again by each reload.
 */
export class WorkerSettings {
  readonly #running: ClusterConfig;
  readonly #pool: WorkerPool;
  readonly #log: Logger;
  /** How a reload reads the config again (set by runMaster when it knows how the cluster was started). */
  #read: (() => Promise<ClusterConfig>) | null = null;

  constructor(running: ClusterConfig, pool: WorkerPool, log: Logger) {
    this.#running = running;
    this.#pool = pool;
    this.#log = log;
  }

  /** Each reload reads the config again with `read` (the config file, the start's flags and environment). */
  readWith(read: () => Promise<ClusterConfig>): void {
    this.#read = read;
  }

  /** At start: a bad certificate stops it here, before any process starts or any address binds. */
  atStart(): void {
    this.#readCertificates(this.#running);
  }

  /**
   * Before a reload: the config read again, its reloaded settings given to
   * the workers started from now on, and the certificates read again. Throws
   * (the reload is refused) naming an invalid config, a missing cwd or a bad
   * certificate file; nothing has changed then.
   */
  async beforeReload(): Promise<ReloadChanges> {
    if (!this.#read) {
      this.#readCertificates(this.#pool.config);
      return { applied: [], needsUpgrade: [] };
    }
    const next = reconfigure(this.#running, await this.#read());
    checkCwd(next.workers);
    this.#readCertificates(next.workers);
    this.#pool.config = next.workers;
    if (next.applied.length > 0) this.#log.info({ settings: next.applied }, 'reload: the new workers get the changed settings');
    if (next.needsUpgrade.length > 0) {
      this.#log.warn({ settings: next.needsUpgrade }, 'reload: these settings changed, but only take effect with rocket-cluster upgrade (or a restart)');
    }
    return next;
  }

  /** Reads the https:// addresses' certificates and keys for the workers started from now on; throws naming a bad file. */
  #readCertificates(config: ClusterConfig): void {
    const loaded = loadTlsMaterial(config.listen);
    for (const warning of loaded.warnings) this.#log.warn(warning);
    this.#pool.tls = loaded.listeners;
  }
}
