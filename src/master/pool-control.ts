import { MAX_WORKERS } from '../shared/defaults.js';
import { RocketError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Autoscaler } from './autoscaler.js';
import type { MasterLifecycle } from './master-state.js';
import type { WorkerPool } from './pool.js';
import type { ScalingOptions } from './scaling.js';
import { pickVictims } from './scheduling.js';
import type { ClusterEvents } from './cluster-events.js';

/** The pool's bounds, which an operator's `scale` changes at run time. */
export type PoolBounds = { -readonly [K in keyof ScalingOptions]: ScalingOptions[K] };

/** What a reload's preparation found in the config read again: see reconfigure.ts. */
export interface ReloadChanges {
  readonly applied: readonly string[];
  readonly needsUpgrade: readonly string[];
}

export type ReloadOutcome = ({ done: true; generation: number } & ReloadChanges) | { done: false; reason: string };

/**
 * What an operator does to the pool: a rolling reload (SIGHUP, `reload`) and a
 * resize (`scale`, SIGTTIN/SIGTTOU). Both are refused unless the cluster is
 * running, and a resize is refused on a crash-looping pool; every resize is
 * recorded as a scale event, whoever asked.
 */
export class PoolControl {
  readonly #pool: WorkerPool;
  readonly #bounds: PoolBounds;
  readonly #autoscaler: Autoscaler;
  readonly #lifecycle: MasterLifecycle;
  readonly #log: Logger;
  readonly #healthy: () => void;
  readonly #prepare: () => Promise<ReloadChanges>;
  readonly #observed: ClusterEvents | undefined;

  /**
   * `healthy` is called after a completed reload: a crash-looping pool serves
   * again, and its timers restart. `prepare` runs before a reload starts (it
   * reads the config and the certificates again); if it throws, the reload is
   * refused. `observed` hears each reload start, complete, or fail.
   */
  constructor(pool: WorkerPool, bounds: PoolBounds, autoscaler: Autoscaler, lifecycle: MasterLifecycle, log: Logger, healthy: () => void, prepare: () => Promise<ReloadChanges>, observed?: ClusterEvents) {
    this.#observed = observed;
    this.#prepare = prepare;
    this.#pool = pool;
    this.#bounds = bounds;
    this.#autoscaler = autoscaler;
    this.#lifecycle = lifecycle;
    this.#log = log;
    this.#healthy = healthy;
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
  async reload(): Promise<ReloadOutcome> {
    const outcome = await this.#reload();
    if (!outcome.done) this.#observed?.emit({ t: 'reload', phase: 'failed', generation: this.#pool.generation, reason: outcome.reason });
    else this.#observed?.emit({ t: 'reload', phase: 'done', generation: outcome.generation });
    return outcome;
  }

  async #reload(): Promise<ReloadOutcome> {
    const state = this.#lifecycle.state;
    if (state !== 'running') {
      const reason = state === 'reloading' ? 'a reload is running' : `the cluster is ${this.#lifecycle.reported}`;
      this.#log.warn({ state }, `reload refused: ${reason}`);
      return { done: false, reason };
    }
    // Claimed before the config is read, so that a second reload asked meanwhile is refused.
    this.#lifecycle.to('reloading');
    let changes: ReloadChanges;
    try {
      changes = await this.#prepare();
    } catch (error) {
      this.#lifecycle.to('running');
      const reason = `reload refused, the old workers keep serving: ${(error as Error).message}`;
      this.#log.error({ code: (error as RocketError).code }, reason);
      return { done: false, reason };
    }
    const generation = ++this.#pool.generation;
    const old = this.#pool.live.filter((w) => w.generation < generation);
    // An errored pool may have no worker left: a reload brings it back to min.
    const steps = Math.max(old.length, this.#bounds.minWorkers);
    this.#log.info({ generation, replacing: old.length }, 'reload started');
    this.#observed?.emit({ t: 'reload', phase: 'started', generation });
    try {
      for (let i = 0; i < steps; i++) {
        await this.#pool.replace(old[i]);
        if (this.#lifecycle.state !== 'reloading') return { done: false, reason: `the cluster is ${this.#lifecycle.reported}` };
      }
      this.#log.info({ generation }, 'reload complete');
      this.#lifecycle.to('running');
      this.#healthy();
      return { done: true, generation, ...changes };
    } catch (error) {
      const reason = `reload aborted, the old workers keep serving: ${(error as Error).message}`;
      this.#log.error({ generation, code: (error as RocketError).code }, reason);
      return { done: false, reason };
    } finally {
      if (this.#lifecycle.state === 'reloading') this.#lifecycle.to('running');
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
    const live = this.#pool.live.length;
    const target = change.to ?? live + (change.by ?? 0);
    this.#check(target);
    this.#bounds.minWorkers = target;
    this.#bounds.maxWorkers = Math.max(this.#bounds.maxWorkers, target);
    this.#resize(target, 'scale command');
    return { min: this.#bounds.minWorkers, max: this.#bounds.maxWorkers, workers: target };
  }

  /** SIGTTIN / SIGTTOU: one worker more or fewer, within the pool's bounds (which do not change). */
  scaleBy(delta: 1 | -1): void {
    const live = this.#pool.live.length;
    const target = live + delta;
    try {
      this.#check(target);
    } catch (error) {
      this.#log.warn({ workers: live }, `pool size unchanged: ${(error as Error).message}`);
      return;
    }
    if (target < this.#bounds.minWorkers || target > this.#bounds.maxWorkers) {
      this.#log.warn({ workers: live, min: this.#bounds.minWorkers, max: this.#bounds.maxWorkers }, 'pool size unchanged: at its bound');
      return;
    }
    this.#resize(target, delta > 0 ? 'SIGTTIN' : 'SIGTTOU');
  }

  #check(target: number): void {
    const state = this.#lifecycle.state;
    if (state !== 'running') {
      throw new RocketError('RC_ERR_CONTROL_REFUSED', state === 'reloading' ? 'cannot scale during a reload' : `cannot scale: the cluster is ${this.#lifecycle.reported}`);
    }
    if (this.#pool.errored !== null) {
      throw new RocketError('RC_ERR_CONTROL_REFUSED', `cannot scale a pool in a crash loop (${this.#pool.errored}): fix the app, then reload`);
    }
    if (target < 1 || target > MAX_WORKERS) {
      throw new RocketError('RC_ERR_CONTROL_REFUSED', `cannot scale to ${target} workers: 1 to ${MAX_WORKERS}`);
    }
  }

  /** Starts or retires workers until `target` are live, and records the change. */
  #resize(target: number, reason: string): void {
    const live = this.#pool.live;
    if (target > live.length) {
      for (let i = live.length; i < target; i++) this.#pool.spawn();
      this.#autoscaler.note('grow', target, reason);
    } else if (target < live.length) {
      for (const i of pickVictims(live, live.length - target)) void this.#pool.retire(live[i]!);
      this.#autoscaler.note('shrink', target, reason);
    }
  }
}
