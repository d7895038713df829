import type { ClusterConfig } from '../shared/config.js';
import type { DescriptorState } from '../shared/descriptors.js';
import type { LogStats, StatusReport } from '../shared/status-report.js';
import type { Autoscaler } from './autoscaler.js';
import { memoryPressure } from './memory-budget.js';
import type { Rebalancer } from './rebalancer.js';
import type { Dispatcher } from './dispatcher.js';
import type { MasterLifecycle } from './master-state.js';
import type { Parking } from './parking.js';
import type { WorkerPool } from './pool.js';
import type { Supervisor } from './supervisor.js';

/** The master's parts, as `buildStatus` reads them. */
export interface StatusSources {
  readonly config: ClusterConfig;
  /** The pool's bounds now (`scale` changes them). */
  readonly bounds: { readonly minWorkers: number; readonly maxWorkers: number };
  readonly life: MasterLifecycle;
  readonly startedAt: number;
  readonly listening: readonly string[];
  readonly dispatcher: Dispatcher;
  readonly pool: WorkerPool;
  readonly parking: Parking;
  readonly supervisor: Supervisor;
  readonly autoscaler: Autoscaler;
  readonly rebalancer: Rebalancer;
  readonly logs: LogStats;
  /** The master's own file descriptors (the workers' come with their load reports). */
  readonly descriptors: DescriptorState;
  /** How new connections come in (`--accept`), and whether the master accepts now. */
  readonly accept: 'workers' | 'master';
  readonly masterAccepting: boolean;
}

export function buildStatus(s: StatusSources): StatusReport {
  const now = Date.now();
  const { config, pool, dispatcher, autoscaler } = s;
  const queue = dispatcher.queue;
  const c = dispatcher.counters;
  const p = s.parking.counters;
  const m = s.parking.monitor;
  return {
    name: config.name,
    pid: process.pid,
    state: s.life.reported,
    generation: pool.generation,
    reloading: s.life.state === 'reloading',
    uptimeMs: now - s.startedAt,
    listening: s.listening,
    queue: { depth: queue.length, capacity: queue.capacity, oldestWaitMs: queue.oldestWait(now), rejected: c.rejected, timedOut: c.timedOut },
    parked: { count: m?.parked ?? 0, inFlight: m?.channel.pendingHandles ?? 0, capacity: config.maxParked, refused: p.refused, lost: p.lost },
    monitor: { pid: m?.pid ?? null, state: m?.state ?? 'none', restarts: p.restarts, lastRestart: s.parking.lastRestart },
    workers: pool.workers.map((w) => ({
      id: w.id,
      slot: w.slot,
      pid: w.pid ?? null,
      state: w.state,
      generation: w.generation,
      connections: w.active,
      served: w.served,
      uptimeMs: now - w.startedAt,
      parking: w.parking,
      descriptors: w.descriptors,
    })),
    restarts: pool.restarts,
    pool: {
      ...{ min: s.bounds.minWorkers, max: s.bounds.maxWorkers, errored: pool.errored, recycled: s.supervisor.recycled, events: autoscaler.events, scaled: { ...autoscaler.totals } },
      memory: {
        soft: config.poolMemorySoft ?? null,
        hard: config.poolMemoryHard ?? null,
        rss: pool.rss,
        over: memoryPressure(pool.rss, config),
        holding: autoscaler.holding,
        held: autoscaler.held,
      },
    },
    connections: {
      accept: s.accept,
      masterAccepting: s.masterAccepting,
      accepted: c.accepted,
      acceptedByWorkers: pool.accepted,
      surplus: c.surplus,
      sheds: s.rebalancer.counters.sheds,
      moved: s.rebalancer.counters.moved,
      dispatched: c.dispatched,
      parks: p.parks,
      wakes: p.wakes,
      sticky: dispatcher.sticky ? { addresses: dispatcher.sticky.size, moved: dispatcher.sticky.moved } : null,
    },
    logs: s.logs,
    descriptors: {
      exhausted: s.descriptors.exhausted + s.parking.monitorDescriptors.exhausted + pool.fdExhausted,
      master: s.descriptors,
      monitor: s.parking.monitorDescriptors,
      workers: { exhausted: pool.fdExhausted, droppedOnTheWay: pool.droppedOnTheWay },
    },
  };
}
