/** What the scheduler needs to know of one worker; no I/O, no process objects. */
export interface WorkerSnapshot {
  readonly ready: boolean;
  /** A handle is on its way to this worker and not yet acknowledged. */
  readonly busy: boolean;
  /** Connections the worker holds. */
  readonly active: number;
  /** Reload generation: during a rolling reload, new workers are preferred. */
  readonly generation: number;
}

/**
 * Picks the worker for the next connection: ready, nothing in flight, under the
 * per-worker cap; newest generation first (during a rolling reload, a
 * connection sent to an old worker would be handed back again moments later),
 * then fewest connections; ties go to the first candidate at or after `start`,
 * so that equal workers take turns instead of the first one taking all.
 * Returns -1 when no worker can take a connection now (it waits in the queue).
 */
export function pickWorker(workers: readonly WorkerSnapshot[], cap: number, start = 0): number {
  let best = -1;
  let bestActive = Infinity;
  let bestGeneration = -Infinity;
  const n = workers.length;
  for (let k = 0; k < n; k++) {
    const i = (start + k) % n;
    const w = workers[i] as WorkerSnapshot;
    if (!w.ready || w.busy || w.active >= cap) continue;
    if (w.generation > bestGeneration || (w.generation === bestGeneration && w.active < bestActive)) {
      best = i;
      bestActive = w.active;
      bestGeneration = w.generation;
    }
  }
  return best;
}

/** What the victim choice needs of one worker. */
export interface RetireCandidate {
  /** Connections the worker holds: the fewer, the less there is to hand back. */
  readonly active: number;
}

/**
 * Which `count` workers retire when the pool shrinks (autoscaler, `scale`,
 * SIGTTOU): those with the fewest connections, since they have the least to
 * hand back; on a tie the newest (last in the list), whose caches are the
 * coldest. Returns indices into `workers`, best victim first.
 */
export function pickVictims(workers: readonly RetireCandidate[], count: number): number[] {
  return workers
    .map((w, i) => ({ active: w.active, i }))
    .sort((a, b) => a.active - b.active || b.i - a.i)
    .slice(0, Math.max(0, count))
    .map((c) => c.i);
}

/** Connections a worker may always accept itself, however idle the pool: below this, balance does not pay an IPC hop. */
export const ACCEPT_LIMIT_FLOOR = 4;
/** How far over its fair share of the pool's connections a worker may go before it hands new ones over. */
export const ACCEPT_LIMIT_SLACK = 1.25;

/**
 * `--accept workers`: how many connections a worker may hold before one it
 * accepts goes to the master instead (which sends it to the least-loaded
 * worker). Its fair share of the connections the accepting workers hold, with
 * some slack, never under the floor, never over the cap. One worker alone
 * takes everything up to the cap. This bounds SCHED_NONE's imbalance (whoever
 * is awake accepts) at the cost of a hop for the surplus only.
 */
export function acceptLimit(active: readonly number[], cap: number): number {
  if (active.length <= 1) return cap;
  const total = active.reduce((a, b) => a + b, 0);
  const fair = total / active.length;
  return Math.min(cap, Math.max(ACCEPT_LIMIT_FLOOR, Math.ceil(fair * ACCEPT_LIMIT_SLACK) + 1));
}
