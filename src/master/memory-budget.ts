/**
 * The pool's memory budget (uWSGI's `cheaper-rss-limit-soft` and
 * `cheaper-rss-limit-hard`): the workers' total RSS, from their load reports,
 * against two limits. Above the soft one the pool does not grow; above the
 * hard one it does not grow either, and one worker retires at a time down to
 * `--min-workers`. Pure: the autoscaler applies the verdict every tick.
 */

const MB = 1024 * 1024;

/** `--pool-memory-soft` / `--pool-memory-hard`, in MB; undefined when not set. */
export interface MemoryBudget {
  readonly poolMemorySoft?: number | undefined;
  readonly poolMemoryHard?: number | undefined;
}

/** Which limit the workers' total RSS is above (the hard one wins). */
export type MemoryPressure = 'memory-soft' | 'memory-hard';

export interface MemorySnapshot {
  /** The workers' total RSS in bytes, draining ones included (they hold memory until they exit). */
  readonly totalRss: number;
  /** Workers that count toward the pool's size (not retiring). */
  readonly live: number;
  readonly minWorkers: number;
  /**
   * A memory-hard retirement has not finished, or not every ready worker has
   * reported since it did: the total is not yet the one after it, so nothing
   * more is retired (one at a time, as uWSGI's cheaper does).
   */
  readonly settling: boolean;
}

export interface MemoryVerdict {
  /** What the total is above now; null: within budget. */
  readonly pressure: MemoryPressure | null;
  /** Retire one worker now (the one with the most RSS). */
  readonly retire: boolean;
  /** Above the hard limit with nothing to retire: the pool is at `--min-workers`. */
  readonly atMinimum: boolean;
}

export function memoryPressure(totalRss: number, budget: MemoryBudget): MemoryPressure | null {
  if (budget.poolMemoryHard !== undefined && totalRss > budget.poolMemoryHard * MB) return 'memory-hard';
  if (budget.poolMemorySoft !== undefined && totalRss > budget.poolMemorySoft * MB) return 'memory-soft';
  return null;
}

export function judgeMemory(s: MemorySnapshot, budget: MemoryBudget): MemoryVerdict {
  const pressure = memoryPressure(s.totalRss, budget);
  const hard = pressure === 'memory-hard' && !s.settling;
  return { pressure, retire: hard && s.live > s.minWorkers, atMinimum: hard && s.live <= s.minWorkers };
}

/**
 * Growth held back by the budget is logged once per episode, not every tick
 * the policy wants to grow: an episode starts at the first growth held back
 * and ends when the total is within budget again. It keeps the limit it
 * started on, so a total that wavers around the hard limit does not start
 * another. Returns the episode now and whether to announce it.
 */
export function holdEpisode(current: MemoryPressure | null, pressure: MemoryPressure | null, growthHeld: boolean): { episode: MemoryPressure | null; announce: boolean } {
  if (pressure === null) return { episode: null, announce: false };
  if (current !== null) return { episode: current, announce: false };
  return growthHeld ? { episode: pressure, announce: true } : { episode: null, announce: false };
}

/** Bytes as whole MB, for log lines and reasons. */
export function mb(bytes: number): number {
  return Math.round(bytes / MB);
}
