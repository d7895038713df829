import { AggregatorRegistry, Registry } from 'prom-client';
import type { MetricsJson } from '../shared/protocol.js';
import { MasterMetrics } from './master-metrics.js';
import type { StatusReport } from '../shared/status-report.js';
import type { WorkerLink } from './worker-link.js';

/** A worker that has not answered a scrape by then is left out of it (and counted). */
const SCRAPE_TIMEOUT_MS = 1000;

export interface MetricsSources {
  status(): StatusReport;
  workers(): readonly WorkerLink[];
}

/**
 * What GET /metrics serves: the workers' registries, asked for over IPC and
 * combined with prom-client's static `AggregatorRegistry.aggregate` (each
 * metric by its own aggregator: counters and histograms sum, version info is
 * taken once, ...), merged with the master's own registry. Only the static
 * method is used: an AggregatorRegistry instance listens on node:cluster,
 * which rocket-cluster does not use. Scrapes that arrive while one runs share
 * it, so a dashboard and Prometheus together cost the workers one collection.
 *
 * Workers come and go (reload, recycling, crashes) but the cluster's counters
 * must not go down, or Prometheus' rate() reads a reset: a worker's counters
 * and histograms as it last answered are kept once it is gone. What it served
 * after that last answer is not counted.
 */
export class ClusterMetrics {
  readonly #sources: MetricsSources;
  readonly #master = new MasterMetrics();
  /** Each live worker's last answer. */
  readonly #lastAnswers = new Map<WorkerLink, MetricsJson>();
  /** Counters and histograms of the workers gone, summed. */
  #gone: MetricsJson = [];
  #running: Promise<Registry> | null = null;

  constructor(sources: MetricsSources) {
    this.#sources = sources;
  }

  /** A registry holding this moment's metrics of the whole cluster. */
  collect(): Promise<Registry> {
    this.#running ??= this.#collect().finally(() => (this.#running = null));
    return this.#running;
  }

  async #collect(): Promise<Registry> {
    // A worker still loading its app could not answer; one retiring still serves.
    const asked = this.#sources.workers().filter((w) => w.state !== 'spawning' && w.channel.connected);
    // One that dies or hangs meanwhile only goes missing from this scrape.
    const answers = await Promise.allSettled(asked.map((w) => w.scrape(SCRAPE_TIMEOUT_MS)));
    const fresh = new Map<WorkerLink, MetricsJson>();
    for (const [i, a] of answers.entries()) if (a.status === 'fulfilled') fresh.set(asked[i] as WorkerLink, a.value);
    for (const [w, m] of fresh) this.#lastAnswers.set(w, m);
    const workers = this.#sources.workers();
    await this.#keepTotalsOfGone(workers);
    this.#master.missed(asked.length - fresh.size);
    this.#master.sync(this.#sources.status(), workers.filter((w) => w.rss > 0).map((w) => ({ id: w.id, rss: w.rss })));
    // A worker that missed this scrape counts with its last answer: leaving it out would make the sums go down.
    const live = [...this.#lastAnswers.values()];
    return Registry.merge([AggregatorRegistry.aggregate([...live, this.#gone]), this.#master.registry]);
  }

  async #keepTotalsOfGone(live: readonly WorkerLink[]): Promise<void> {
    const gone = [...this.#lastAnswers.keys()].filter((w) => !live.includes(w));
    if (gone.length === 0) return;
    const totals = gone.map((w) => (this.#lastAnswers.get(w) ?? []).filter((m) => monotonic(String(m.type))));
    for (const w of gone) this.#lastAnswers.delete(w);
    this.#gone = await AggregatorRegistry.aggregate([this.#gone, ...totals]).getMetricsAsJSON();
  }
}

/** prom-client's JSON carries the metric type as a string. */
function monotonic(type: string): boolean {
  return type === 'counter' || type === 'histogram';
}
