import type http from 'node:http';
import type { ClusterConfig } from '../shared/config.js';
import { EXIT_GRACE_MS } from '../shared/defaults.js';
import type { Logger } from '../shared/logger.js';
import type { Dispatcher } from './dispatcher.js';
import type { MasterLifecycle } from './master-state.js';
import type { Parking } from './parking.js';
import type { WorkerPool } from './pool.js';

/** What a stop acts on; the listeners and admin server are read when the stop begins (they appear during start). */
export interface ShutdownParts {
  readonly config: ClusterConfig;
  readonly log: Logger;
  readonly life: MasterLifecycle;
  readonly pool: WorkerPool;
  readonly parking: Parking;
  readonly dispatcher: Dispatcher;
  /** Closes the listening sockets (they may not exist yet: a stop during start). */
  closeListeners(): Promise<void>;
  admin(): http.Server | null;
  /** Stops the autoscaler's and supervisor's timers. */
  pauseTimers(): void;
}

/**
 * The end of the journey, in order: close the listeners and the monitor's
 * parked sockets, serve what is still queued, then tell workers to finish and
 * exit; `stopped` once every child is gone. A forced stop kills everything at
 * once (second signal, failed start, `shutdownTimeout`).
 */
export class Shutdown {
  readonly #p: ShutdownParts;
  #graceful: Promise<void> | null = null;
  #gone!: () => void;
  /** Resolves once the master reached `stopped`: every child is gone. */
  readonly allGone = new Promise<void>((resolve) => (this.#gone = resolve));

  constructor(parts: ShutdownParts) {
    this.#p = parts;
  }

  graceful(): Promise<void> {
    this.#graceful ??= this.#run();
    return this.#graceful;
  }

  async force(): Promise<void> {
    const { life, pool, parking, dispatcher } = this.#p;
    if (life.state === 'stopped' || life.state === 'killing') return;
    life.to('killing');
    this.#p.pauseTimers();
    pool.stop();
    pool.kill();
    parking.kill();
    dispatcher.closeAll();
    this.#p.admin()?.close();
    await this.#p.closeListeners();
    this.childExited();
  }

  /** While stopping: serves what waits (a worker's exit may free room) and notices when the last child is gone. */
  childExited(): void {
    const { life, pool, parking, dispatcher } = this.#p;
    if (!life.ending) return;
    dispatcher.pump();
    const monitor = parking.monitor;
    const monitorGone = !monitor || monitor.state === 'exited';
    const told = life.state === 'closing' || life.state === 'killing';
    if (told && pool.workers.length === 0 && monitorGone && life.to('stopped')) this.#gone();
  }

  async #run(): Promise<void> {
    const { config, log, life, pool, parking, dispatcher } = this.#p;
    if (!life.serving) return this.allGone; // already being killed
    life.to('stopping');
    this.#p.pauseTimers();
    log.info({ queued: dispatcher.queue.length }, 'stopping');
    const killAt = Date.now() + config.shutdownTimeout;
    const deadline = setTimeout(() => {
      log.warn({ timeoutMs: config.shutdownTimeout }, 'shutdown timeout: killing what is left');
      void this.force();
    }, config.shutdownTimeout);
    await this.#p.closeListeners();
    parking.stop();
    // Workers are told to stop only once the queue is empty, so no queued client is dropped.
    dispatcher.whenEmpty(() => {
      if (life.state !== 'stopping') return;
      life.to('closing');
      // Workers are told what is left, less a margin to log an overrunning shutdown hook before they are killed.
      pool.stop(Math.max(0, killAt - Date.now() - EXIT_GRACE_MS));
      this.childExited();
    });
    await this.allGone;
    clearTimeout(deadline);
    this.#p.admin()?.close();
    log.info('stopped');
  }
}
