import type { ScaleEvent } from '../shared/status-report.js';
import type { Logger } from '../shared/logger.js';
import type { WorkerPool } from './pool.js';
import type { WorkerLink } from './worker-link.js';
import { Ticker } from './ticker.js';
import { holdEpisode, judgeMemory, mb, type MemoryBudget, type MemoryPressure } from './memory-budget.js';
import type { ClusterEvents } from './cluster-events.js';
import { INITIAL_SCALING_STATE, decideScaling, type ScalingOptions, type ScalingState } from './scaling.js';

const TICK_MS = 250;
const EVENTS_KEPT = 20;

/**
 * Applies the scaling policy to the pool every tick: spawns on grow, retires
 * one worker on shrink, and remembers the last events for /status. Holds while
 * `paused()` (starting, reloading, stopping). The memory budget
 * (memory-budget.ts) comes first: above it no growth, and above its hard
 * limit one worker retires at a time.
 */
export class Autoscaler {
  readonly events: ScaleEvent[] = [];
  /** Every scale event since start, by kind (`events` keeps only the last ones). */
  readonly totals: Record<ScaleEvent['kind'], number> = { grow: 0, shrink: 0 };
  /** Episodes of growth held back by the memory budget since start. */
  held = 0;
  /** The limit that holds growth back in the episode now; null when none does. */
  holding: MemoryPressure | null = null;
  readonly #pool: WorkerPool;
  readonly #log: Logger;
  readonly #queueDepth: () => number;
  readonly #paused: () => boolean;
  readonly #options: ScalingOptions;
  readonly #budget: MemoryBudget;
  readonly #observed: ClusterEvents | undefined;
  #state: ScalingState = INITIAL_SCALING_STATE;
  /** The last memory-hard retirement, until every ready worker has reported after it ended. */
  #memoryRetirement: { endedAt: number | null } | null = null;
  /** Above the hard limit at --min-workers has been logged, for this episode. */
  #atMinimumLogged = false;
  readonly #ticker = new Ticker(TICK_MS, () => this.#tick());

  /** `options` is read at every tick: the bounds may change at run time (`rocket-cluster scale`). `observed` hears every scale event. */
  constructor(options: ScalingOptions, budget: MemoryBudget, pool: WorkerPool, log: Logger, queueDepth: () => number, paused: () => boolean, observed?: ClusterEvents) {
    this.#observed = observed;
    this.#pool = pool;
    this.#log = log;
    this.#queueDepth = queueDepth;
    this.#paused = paused;
    this.#options = options;
    this.#budget = budget;
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
    const now = Date.now();
    const totalRss = this.#pool.rss;
    const memory = judgeMemory({ totalRss, live: workers.length, minWorkers: this.#options.minWorkers, settling: this.#settling() }, this.#budget);
    if (memory.retire) return this.#retireForMemory(workers, totalRss, now);
    this.#noteAtMinimum(memory.atMinimum, memory.pressure, totalRss);
    const snapshot = workers.map((w) => ({ spawning: w.state === 'spawning', active: w.active, elu: w.elu, slot: w.slot }));
    const { decision, state } = decideScaling(now, this.#queueDepth(), snapshot, this.#state, this.#options);
    const held = decision.kind === 'grow' && memory.pressure !== null;
    this.#holdEpisode(memory.pressure, held, totalRss, decision.kind === 'grow' ? decision.reason : '');
    // A growth held back leaves the policy's state as it was: no grow happened to time a shrink or a penalty from.
    this.#state = held ? { ...this.#state, idleSince: null } : state;
    if (decision.kind === 'hold' || held) return;
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

  /**
   * Whether the last memory-hard retirement is still under way, or has ended
   * without every ready worker reporting since: until then the total RSS is
   * not the one after it (each worker reports at least every 0.5 s).
   */
  #settling(): boolean {
    const r = this.#memoryRetirement;
    if (r === null) return false;
    const endedAt = r.endedAt;
    if (endedAt === null) return true;
    if (this.#pool.workers.some((w) => w.state === 'ready' && w.reportedAt <= endedAt)) return true;
    this.#memoryRetirement = null;
    return false;
  }

  /** Retires the ready worker with the most RSS: the most memory back for one retirement, and the likeliest leak. */
  #retireForMemory(workers: readonly WorkerLink[], totalRss: number, now: number): void {
    let victim: WorkerLink | undefined;
    for (const w of workers) if (w.state === 'ready' && (victim === undefined || w.rss > victim.rss)) victim = w;
    if (!victim) return;
    this.#record('shrink', workers.length - 1, `memory-hard: workers' RSS ${mb(totalRss)} MB above --pool-memory-hard ${this.#budget.poolMemoryHard} MB`);
    // The idle shrink waits its cool-down after this one, as after its own.
    this.#state = { ...this.#state, idleSince: null, lastShrinkAt: now };
    const retirement: { endedAt: number | null } = { endedAt: null };
    this.#memoryRetirement = retirement;
    void this.#pool.retire(victim).then(() => (retirement.endedAt = Date.now()));
  }

  #noteAtMinimum(atMinimum: boolean, pressure: MemoryPressure | null, totalRss: number): void {
    if (pressure !== 'memory-hard') this.#atMinimumLogged = false;
    if (!atMinimum || this.#atMinimumLogged) return;
    this.#atMinimumLogged = true;
    this.#log.warn({ reason: 'memory-hard', rssMb: mb(totalRss), hardMb: this.#budget.poolMemoryHard, minWorkers: this.#options.minWorkers }, 'pool memory above --pool-memory-hard at --min-workers: no worker retired');
  }

  #holdEpisode(pressure: MemoryPressure | null, held: boolean, totalRss: number, wanted: string): void {
    const { episode, announce } = holdEpisode(this.holding, pressure, held);
    this.holding = episode;
    if (!announce) return;
    this.held++;
    const { poolMemorySoft: softMb, poolMemoryHard: hardMb } = this.#budget;
    this.#log.warn({ reason: episode, rssMb: mb(totalRss), softMb, hardMb, wanted }, `pool growth held back: ${episode}`);
  }

  #record(kind: ScaleEvent['kind'], total: number, reason: string): void {
    this.#log.info({ workers: total, reason }, kind === 'grow' ? 'pool grows' : 'pool shrinks');
    this.totals[kind]++;
    this.events.push({ at: new Date().toISOString(), kind, workers: total, reason });
    if (this.events.length > EVENTS_KEPT) this.events.shift();
    this.#observed?.emit({ t: 'scale', kind, workers: total, reason });
  }
}
