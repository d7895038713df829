import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { DEFAULT_METRICS_OPTIONS } from '../shared/default-metrics.js';
import type { ChildState } from './lifecycle.js';
import type { StatusReport } from '../shared/status-report.js';

/** What a scrape reads about one worker beyond /status. */
export interface WorkerMemory {
  readonly id: number;
  /** Resident memory from the worker's last load report, in bytes. */
  readonly rss: number;
}

/**
 * The master's own registry: its process metrics (prefixed, so they never sum
 * with the workers' `process_*`) and the cluster's state as /status reports it.
 * Everything is set from one status snapshot per scrape; the counters mirror
 * the master's own monotonic totals, so they are reset and set to the total
 * rather than incremented as things happen (nothing on the hot path).
 */
export class MasterMetrics {
  readonly registry = new Registry();
  readonly #queueDepth = this.#gauge('rocket_cluster_queue_depth', 'Accepted connections waiting for a worker.');
  readonly #oldestWait = this.#gauge('rocket_cluster_queue_oldest_wait_seconds', 'How long the oldest queued connection has waited, in seconds.');
  readonly #parked = this.#gauge('rocket_cluster_parked_sockets', 'Idle keep-alive connections the monitor holds.');
  readonly #workers = this.#gauge('rocket_cluster_workers', 'Worker processes by lifecycle state.', ['state']);
  readonly #memory = this.#gauge('rocket_cluster_worker_resident_memory_bytes', "Each worker's resident memory from its last load report, in bytes.", ['worker']);
  readonly #poolMemory = this.#gauge('rocket_cluster_pool_resident_memory_bytes', "The workers' total resident memory from their last load reports, in bytes (what --pool-memory-soft and --pool-memory-hard are checked against).");
  readonly #poolMemoryLimit = this.#gauge('rocket_cluster_pool_memory_limit_bytes', 'The pool memory budget, by limit (soft, hard); absent when not set.', ['limit']);
  readonly #accepted = this.#counter('rocket_cluster_connections_accepted_total', 'Connections accepted by the listeners.');
  readonly #rejected = this.#counter('rocket_cluster_connections_rejected_total', 'Connections answered 503 because the queue was full or no worker could serve.');
  readonly #timedOut = this.#counter('rocket_cluster_queue_timed_out_total', 'Connections answered 503 because they waited in the queue longer than --queue-timeout.');
  readonly #handoffs = this.#counter('rocket_cluster_handoffs_total', 'Connection handoffs: dispatched to a worker, parked in the monitor, woken from it.', ['kind']);
  readonly #restarts = this.#counter('rocket_cluster_worker_restarts_total', 'Workers started to replace one that died.');
  readonly #recycles = this.#counter('rocket_cluster_worker_recycles_total', 'Workers replaced for --max-requests or --max-memory.');
  readonly #scaleEvents = this.#counter('rocket_cluster_scale_events_total', 'Pool size changes, by direction.', ['direction']);
  readonly #scaleHeld = this.#counter('rocket_cluster_scale_held_total', 'Episodes of pool growth held back by the memory budget (--pool-memory-soft or --pool-memory-hard).');
  readonly #fdExhausted = this.#counter('rocket_cluster_fd_exhausted_total', 'Times a process ran out of file descriptors (open within a small margin of its soft limit), by process: master, monitor or worker.', ['process']);
  readonly #fdDropped = this.#counter('rocket_cluster_fd_dropped_connections_total', 'Connections whose descriptor the kernel dropped on the way to a worker that was out of file descriptors; each came back to the queue.');
  readonly #logDropped = this.#counter('rocket_cluster_log_lines_dropped_total', 'Log lines lost: the output failed (full disk, closed pipe) or fell too far behind.');
  readonly #missed = this.#counter('rocket_cluster_metrics_workers_missed_total', 'Workers left out of a scrape: no answer in time, or gone.');
  #missedTotal = 0;

  constructor() {
    collectDefaultMetrics({ ...DEFAULT_METRICS_OPTIONS, register: this.registry, prefix: 'rocket_cluster_master_' });
  }

  /** Counts workers a scrape had to leave out. */
  missed(count: number): void {
    this.#missedTotal += count;
  }

  /** Sets every metric from one snapshot. */
  sync(status: StatusReport, memory: readonly WorkerMemory[]): void {
    this.#queueDepth.set(status.queue.depth);
    this.#oldestWait.set(status.queue.oldestWaitMs / 1000);
    this.#parked.set(status.parked.count);
    const byState: Record<ChildState, number> = { spawning: 0, ready: 0, draining: 0, stopping: 0, exited: 0 };
    for (const w of status.workers) byState[w.state]++;
    for (const [state, count] of Object.entries(byState)) this.#workers.set({ state }, count);
    // Reset so that a worker gone since the last scrape leaves no stale series.
    this.#memory.reset();
    for (const w of memory) this.#memory.set({ worker: w.id }, w.rss);
    const budget = status.pool.memory;
    this.#poolMemory.set(budget.rss);
    this.#poolMemoryLimit.reset();
    if (budget.soft !== null) this.#poolMemoryLimit.set({ limit: 'soft' }, budget.soft * 1024 * 1024);
    if (budget.hard !== null) this.#poolMemoryLimit.set({ limit: 'hard' }, budget.hard * 1024 * 1024);
    const c = status.connections;
    mirror(this.#accepted, [c.accepted]);
    mirror(this.#rejected, [status.queue.rejected]);
    mirror(this.#timedOut, [status.queue.timedOut]);
    mirror(this.#handoffs, [c.dispatched, { kind: 'dispatched' }], [c.parks, { kind: 'parked' }], [c.wakes, { kind: 'woken' }]);
    mirror(this.#restarts, [status.restarts]);
    mirror(this.#recycles, [status.pool.recycled]);
    const { grow, shrink } = status.pool.scaled;
    mirror(this.#scaleEvents, [grow, { direction: 'grow' }], [shrink, { direction: 'shrink' }]);
    mirror(this.#scaleHeld, [budget.held]);
    mirror(this.#missed, [this.#missedTotal]);
    const fds = status.descriptors;
    mirror(this.#fdExhausted, [fds.master.exhausted, { process: 'master' }], [fds.monitor.exhausted, { process: 'monitor' }], [fds.workers.exhausted, { process: 'worker' }]);
    mirror(this.#fdDropped, [fds.workers.droppedOnTheWay]);
    mirror(this.#logDropped, [status.logs.dropped]);
  }

  #gauge(name: string, help: string, labelNames: string[] = []): Gauge {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  #counter(name: string, help: string, labelNames: string[] = []): Counter {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}

/** Sets a counter to totals kept elsewhere: one without labels, or one per label set. */
function mirror(counter: Counter, ...totals: [total: number, labels?: Record<string, string>][]): void {
  counter.reset();
  for (const [total, labels] of totals) {
    if (labels) counter.inc(labels, total);
    else counter.inc(total);
  }
}
