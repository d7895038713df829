/**
 * The pool-size policy: grow fast, shrink slowly (Rocket's ThreadPool, and
 * uWSGI's "spare2"/"busyness" cheaper algorithms). Pure: a snapshot in, a
 * decision and the next state out; the master applies it every tick.
 */

import { pickVictims } from './scheduling.js';

export interface ScalingOptions {
  readonly minWorkers: number;
  readonly maxWorkers: number;
  /** Connections at which a worker counts as full. */
  readonly workerConnections: number;
  /** Event-loop utilization at which a worker counts as full (CPU-saturated). */
  readonly eluFull: number;
  /** Average event-loop utilization under which the pool may be idle. */
  readonly eluIdle: number;
  /** How long the pool must be idle, and how long after a grow, before one worker retires. */
  readonly scaleDownAfter: number;
  /** Waiting connections per extra worker when growing. */
  readonly queuePerWorker: number;
}

export interface WorkerLoadSnapshot {
  /** Spawning workers are capacity on its way: no second grow while one starts. */
  readonly spawning: boolean;
  readonly active: number;
  readonly elu: number;
  /** Its slot (ROCKET_WORKER_ID): on a shrink, slot 0 retires last (pickVictims). */
  readonly slot?: number;
}

export interface ScalingState {
  /** Since when the pool has been idle without interruption; null while busy. */
  readonly idleSince: number | null;
  /** Since when every ready worker's event loop has been saturated without interruption; null if not. */
  readonly saturatedSince: number | null;
  readonly lastGrowAt: number;
  readonly lastShrinkAt: number;
  /** Anti-flap: extra wait before a shrink, doubled each time a grow follows a shrink closely. */
  readonly penalty: number;
}

export const INITIAL_SCALING_STATE: ScalingState = { idleSince: null, saturatedSince: null, lastGrowAt: -Infinity, lastShrinkAt: -Infinity, penalty: 0 };

/**
 * Every worker saturated (ELU ≥ `eluFull`) this long grows the pool by one,
 * though nothing waits in the queue: under keep-alive load the queue stays
 * empty (the waiting is inside the workers' sockets), so queue depth alone
 * would never grow it. 500 ms is two load reports in a row (every 0.5 s, each
 * covering the time since the one before): a second of evidence, so one
 * garbage collection or one slow request does not start a worker. (1000 ms,
 * three reports, made the second worker ready 1.4–2.3 s after the load began,
 * against the issue's 2 s.) It is also the least time between two such grows.
 */
export const SATURATION_GROW_MS = 500;

export type ScalingDecision =
  | { readonly kind: 'hold' }
  | { readonly kind: 'grow'; readonly count: number; readonly reason: string }
  | { readonly kind: 'shrink'; readonly index: number; readonly reason: string };

export function decideScaling(
  now: number,
  queueDepth: number,
  workers: readonly WorkerLoadSnapshot[],
  state: ScalingState,
  o: ScalingOptions,
): { decision: ScalingDecision; state: ScalingState } {
  const total = workers.length;
  const ready = workers.filter((w) => !w.spawning);
  const full = (w: WorkerLoadSnapshot) => w.active >= o.workerConnections || w.elu >= o.eluFull;

  const saturated = ready.length > 0 && ready.length === total && ready.every((w) => w.elu >= o.eluFull);
  const saturatedSince = saturated ? (state.saturatedSince ?? now) : null;
  const grow = (count: number, reason: string) => {
    const flapped = now - state.lastShrinkAt < o.scaleDownAfter;
    const penalty = flapped ? Math.min(8 * o.scaleDownAfter, Math.max(o.scaleDownAfter, state.penalty * 2)) : 0;
    return { decision: { kind: 'grow', count, reason } as const, state: { ...state, idleSince: null, saturatedSince: null, lastGrowAt: now, penalty } };
  };
  if (total < o.maxWorkers && queueDepth > 0 && ready.length === total && ready.every(full)) {
    return grow(Math.min(o.maxWorkers - total, Math.max(1, Math.ceil(queueDepth / o.queuePerWorker))), `${queueDepth} connection(s) waiting and every worker full`);
  }
  if (
    total < o.maxWorkers &&
    saturatedSince !== null &&
    now - saturatedSince >= SATURATION_GROW_MS &&
    now - state.lastGrowAt >= SATURATION_GROW_MS
  ) {
    return grow(1, `every worker's event loop at least ${Math.round(o.eluFull * 100)}% busy for ${now - saturatedSince} ms`);
  }
  state = { ...state, saturatedSince };

  const connections = ready.reduce((n, w) => n + w.active, 0);
  const averageElu = ready.length === 0 ? 1 : ready.reduce((n, w) => n + w.elu, 0) / ready.length;
  // Idle: nothing waits, and one worker fewer would still run at most half full.
  const idle =
    queueDepth === 0 &&
    total > o.minWorkers &&
    ready.length === total &&
    connections <= ((total - 1) * o.workerConnections) / 2 &&
    averageElu * total <= o.eluIdle * (total - 1);
  if (!idle) return { decision: { kind: 'hold' }, state: { ...state, idleSince: null } };

  const idleSince = state.idleSince ?? now;
  const wait = o.scaleDownAfter + state.penalty;
  if (now - idleSince < o.scaleDownAfter || now - state.lastGrowAt < wait || now - state.lastShrinkAt < o.scaleDownAfter) {
    return { decision: { kind: 'hold' }, state: { ...state, idleSince } };
  }
  const [index = 0] = pickVictims(workers, 1);
  const reason = `idle for ${now - idleSince} ms`;
  return { decision: { kind: 'shrink', index, reason }, state: { ...state, idleSince: null, lastShrinkAt: now } };
}
