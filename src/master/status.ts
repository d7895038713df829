import type { ClusterConfig } from '../shared/config.js';
import type { LogStats, ScaleEvent, StatusReport } from '../shared/status-report.js';
import type { MonitorLink } from './monitor-link.js';
import type { WorkerPool } from './pool.js';
import type { ConnectionQueue } from './queue.js';

/** What the master knows, as `buildStatus` needs it. */
export interface StatusSources {
  readonly config: ClusterConfig;
  /** The pool's bounds now (`scale` changes them). */
  readonly bounds: { readonly minWorkers: number; readonly maxWorkers: number };
  readonly state: StatusReport['state'];
  readonly reloading: boolean;
  readonly startedAt: number;
  readonly listening: readonly string[];
  readonly queue: ConnectionQueue;
  readonly pool: WorkerPool;
  readonly monitor: MonitorLink | null;
  readonly parking: { readonly parks: number; readonly wakes: number; readonly refused: number; readonly lost: number; readonly restarts: number };
  readonly recycled: number;
  readonly scaleEvents: readonly ScaleEvent[];
  readonly scaled: Readonly<Record<ScaleEvent['kind'], number>>;
  readonly counters: { readonly accepted: number; readonly dispatched: number; readonly rejected: number };
  readonly logs: LogStats;
}

export function buildStatus(s: StatusSources): StatusReport {
  const now = Date.now();
  const { config, queue, pool, monitor: m, counters: c, parking: p } = s;
  return {
    name: config.name,
    pid: process.pid,
    state: s.state,
    generation: pool.generation,
    reloading: s.reloading,
    uptimeMs: now - s.startedAt,
    listening: s.listening,
    queue: { depth: queue.length, capacity: queue.capacity, oldestWaitMs: queue.oldestWait(now), rejected: c.rejected },
    parked: { count: m?.parked ?? 0, capacity: config.maxParked, refused: p.refused, lost: p.lost },
    monitor: { pid: m?.pid ?? null, state: m?.state ?? 'none', restarts: p.restarts },
    workers: pool.workers.map((w) => ({
      id: w.id,
      pid: w.pid ?? null,
      state: w.state,
      generation: w.generation,
      connections: w.active,
      served: w.served,
      uptimeMs: now - w.startedAt,
    })),
    restarts: pool.restarts,
    pool: { min: s.bounds.minWorkers, max: s.bounds.maxWorkers, errored: pool.errored, recycled: s.recycled, events: s.scaleEvents, scaled: { ...s.scaled } },
    connections: { accepted: c.accepted, dispatched: c.dispatched, parks: p.parks, wakes: p.wakes },
    logs: s.logs,
  };
}
