import type { ScaleEvent } from '../shared/status-report.js';
import type { Logger } from '../shared/logger.js';
import type { WorkerPool } from './pool.js';
import { Ticker } from './ticker.js';
import type { ClusterEvents } from './cluster-events.js';
import { INITIAL_SCALING_STATE, decideScaling, type ScalingOptions, type ScalingState } from './scaling.js';

const TICK_MS = 250;
const EVENTS_KEPT = 20;

/**
 * Applies the scaling policy to the pool every tick: spawns on grow, retires
 * one worker on shrink, and remembers the last events for /status. Holds while
 * `paused()` (starting, reloading, stopping).
 */
export class Autoscaler {
  readonly events: ScaleEvent[] = [];
  /** Every scale event since start, by kind (`events` keeps only the last ones). */
  readonly totals: Record<ScaleEvent['kind'], number> = { grow: 0, shrink: 0 };
  readonly #pool: WorkerPool;
  readonly #log: Logger;
  readonly #queueDepth: () => number;
  readonly #paused: () => boolean;
  readonly #options: ScalingOptions;
  readonly #observed: ClusterEvents | undefined;
  #state: ScalingState = INITIAL_SCALING_STATE;
  readonly #ticker = new Ticker(TICK_MS, () => this.#tick());

  /** `options` is read at every tick: the bounds may change at run time (`rocket-cluster scale`). `observed` hears every scale event. */
  constructor(options: ScalingOptions, pool: WorkerPool, log: Logger, queueDepth: () => number, paused: () => boolean, observed?: ClusterEvents) {
    this.#observed = observed;
    this.#pool = pool;
    this.#log = log;
    this.#queueDepth = queueDepth;
    this.#paused = paused;
    this.#options = options;
  }

  start(): void {
    this.#ticker.start();
  }

  stop(): void {
    this.#ticker.stop();
  }

  #tick(): void {
    // A fixed pool (min = max, which `scale` can make or unmake at any time) has nothing to decide.
    if (this.#paused() || this.#options.minWorkers === this.#options.maxWorkers) return;
    const workers = this.#pool.live;
    const snapshot = workers.map((w) => ({ spawning: w.state === 'spawning', active: w.active, elu: w.elu }));
    const { decision, state } = decideScaling(Date.now(), this.#queueDepth(), snapshot, this.#state, this.#options);
    this.#state = state;
    if (decision.kind === 'hold') return;
    if (decision.kind === 'grow') {
      for (let i = 0; i < decision.count; i++) this.#pool.spawn();
      this.#record('grow', workers.length + decision.count, decision.reason);
      return;
    }
    const victim = workers[decision.index];
    if (!victim) return;
    this.#record('shrink', workers.length - 1, decision.reason);
    void this.#pool.retire(victim);
  }

  /** Records a change of pool size made outside the policy (a scale command). */
  note(kind: ScaleEvent['kind'], total: number, reason: string): void {
    this.#record(kind, total, reason);
  }

  #record(kind: ScaleEvent['kind'], total: number, reason: string): void {
    this.#log.info({ workers: total, reason }, kind === 'grow' ? 'pool grows' : 'pool shrinks');
    this.totals[kind]++;
    this.events.push({ at: new Date().toISOString(), kind, workers: total, reason });
    if (this.events.length > EVENTS_KEPT) this.events.shift();
    this.#observed?.emit({ t: 'scale', kind, workers: total, reason });
  }
}
