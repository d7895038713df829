/** What the scheduler needs to know of one worker; no I/O, no process objects. */
export interface WorkerSnapshot {
  readonly ready: boolean;
  /** A handle is on its way to this worker and not yet acknowledged. */
  readonly busy: boolean;
  /** Connections the worker holds. */
  readonly active: number;
  /** Reload generation: during a rolling reload, new workers are preferred. */
  readonly generation: number;
  /** Out of file descriptors: a connection sent now would be lost on the way. */
  readonly outOfDescriptors?: boolean;
}

/**
 * Picks the worker for the next connection: ready, nothing in flight, not out
 * of file descriptors, under the per-worker cap; newest generation first (during a rolling reload, a
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
    if (!w.ready || w.busy || w.outOfDescriptors === true || w.active >= cap) continue;
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
  /** Its slot (ROCKET_WORKER_ID); slot 0 retires last. */
  readonly slot?: number;
}

/**
 * Which `count` workers retire when the pool shrinks (autoscaler, `scale`,
 * SIGTTOU): those with the fewest connections, since they have the least to
 * hand back; on a tie the newest (last in the list), whose caches are the
 * coldest. The worker in slot 0 goes last, whatever it holds: apps run
 * singleton jobs there ("cron in worker 0", docs/APP-LIFECYCLE.md), and a
 * shrink that retired it would leave the job unrun until the pool grew again.
 * Returns indices into `workers`, best victim first.
 */
export function pickVictims(workers: readonly RetireCandidate[], count: number): number[] {
  return workers
    .map((w, i) => ({ active: w.active, first: w.slot === 0 ? 1 : 0, i }))
    .sort((a, b) => a.first - b.first || a.active - b.active || b.i - a.i)
    .slice(0, Math.max(0, count))
    .map((c) => c.i);
}

/**
 * Connections a worker may accept over its share with slack before it hands
 * new ones over. The master sees a worker's own accepts only in its load
 * reports (batched 20 ms) and works the limit out at each one: in a connect
 * storm (1000 browser-like clients arriving in a second) a headroom of 1 let
 * 66-84 % of the connections take the surplus hop through the master, whose
 * busy event loop then made the limit later still; their first requests
 * waited up to a second. 32 connections of headroom absorb the lag; the
 * imbalance stays bounded (share × 1.25 + 32).
 */
export const ACCEPT_LIMIT_HEADROOM = 32;
/** How far over its fair share of the pool's connections a worker may go before it hands new ones over. */
export const ACCEPT_LIMIT_SLACK = 1.25;

/**
 * `--accept workers`: how many connections a worker may hold before one it
 * accepts goes to the master instead (which sends it to the least-loaded
 * worker). Its fair share of the connections the accepting workers hold, with
 * slack and headroom, never over the cap. One worker alone
 * takes everything up to the cap. This bounds SCHED_NONE's imbalance (whoever
 * is awake accepts) at the cost of a hop for the surplus only.
 */
export function acceptLimit(active: readonly number[], cap: number): number {
  if (active.length <= 1) return cap;
  const total = active.reduce((a, b) => a + b, 0);
  const fair = total / active.length;
  return Math.min(cap, Math.ceil(fair * ACCEPT_LIMIT_SLACK) + ACCEPT_LIMIT_HEADROOM);
}

/** What the rebalance policy needs of one worker. */
export interface ShedCandidate {
  /** Takes connections now (said ready, not retiring). */
  readonly ready: boolean;
  /** Can hand connections back (parking is on in it). */
  readonly canShed: boolean;
  readonly active: number;
  /** Event-loop utilization over its last report (at most 0.5 s old). */
  readonly elu: number;
  /** When it was last asked to shed (ms); -Infinity if never. */
  readonly lastShedAt: number;
}

/** A worker is asked to shed at most this often: its ELU reports (every 0.5 s) must show the last move's effect first. */
export const SHED_COOLDOWN_MS = 1500;
/** Fewer connections over the fair share than this are not worth a move. */
export const SHED_MIN = 2;

/**
 * Rebalance: node:cluster and PM2 pin a keep-alive connection to its worker
 * for life, so a pool that grows under keep-alive load never uses its new
 * worker. Here a worker whose event loop is saturated (ELU ≥ `eluFull`) and
 * that holds more than its fair share of the ready workers' connections sheds
 * the excess, while another ready worker has room (not saturated, under the
 * fair share) to take it. Returns which workers shed how many (indices into
 * `workers`).
 */
export function planShed(workers: readonly ShedCandidate[], eluFull: number, now: number): { index: number; count: number }[] {
  const ready = workers.filter((w) => w.ready);
  if (ready.length < 2) return [];
  const fair = Math.ceil(ready.reduce((n, w) => n + w.active, 0) / ready.length);
  // Room: not saturated, or holding nothing at all (a worker that just started reports its start-up's busy loop).
  if (!ready.some((w) => w.active < fair && (w.elu < eluFull || w.active === 0))) return [];
  const plan: { index: number; count: number }[] = [];
  workers.forEach((w, index) => {
    const excess = w.active - fair;
    if (w.ready && w.canShed && w.elu >= eluFull && excess >= SHED_MIN && now - w.lastShedAt >= SHED_COOLDOWN_MS) plan.push({ index, count: excess });
  });
  return plan;
}
