import type http from 'node:http';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { DEFAULT_METRICS_OPTIONS } from '../shared/default-metrics.js';
import type { MetricsJson } from '../shared/protocol.js';

/** Request duration buckets in seconds: 1 ms to 10 s, about 2.5× apart. */
export const DURATION_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Node lets an app answer any status from 100 to 999. */
const STATUS_CODES = 1000;


/**
 * This worker's prom-client registry: Node's default process metrics, requests
 * by status code and a request duration histogram. The master asks for it on
 * every scrape and sums all workers'.
 *
 * The per-request path runs at tens of thousands of requests a second, so it
 * allocates nothing it can avoid: the worker's one 'finish' listener calls
 * `finished`, the status is counted in a typed array and copied into the
 * Counter only when scraped (a labelled `inc` builds a label key string per
 * call), and the histogram is observed through a child made once (no label hashing).
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly #byStatus = new Float64Array(STATUS_CODES);
  readonly #observe: (seconds: number) => void;

  constructor() {
    collectDefaultMetrics({ ...DEFAULT_METRICS_OPTIONS, register: this.registry });
    const byStatus = this.#byStatus;
    const copied = new Float64Array(STATUS_CODES);
    new Counter({
      name: 'rocket_cluster_http_requests_total',
      help: 'Requests whose response finished, by status code.',
      labelNames: ['code'],
      registers: [this.registry],
      collect() {
        for (let code = 0; code < STATUS_CODES; code++) {
          const fresh = (byStatus[code] as number) - (copied[code] as number);
          if (fresh > 0) this.inc({ code }, fresh);
          copied[code] = byStatus[code] as number;
        }
      },
    });
    const histogram = new Histogram({
      name: 'rocket_cluster_http_request_duration_seconds',
      help: 'Time from a request head being parsed to its response being handed to the OS, in seconds.',
      buckets: [...DURATION_BUCKETS],
      registers: [this.registry],
    });
    this.#observe = histogram.labels().observe;
  }

  /**
   * A response finished, `ms` after its request arrived. A response whose
   * connection closes before it finishes is not counted (its client saw no status).
   */
  finished(res: http.ServerResponse, ms: number): void {
    const code = res.statusCode;
    if (code >= 0 && code < STATUS_CODES) this.#byStatus[code]!++;
    this.#observe(ms / 1000);
  }

  snapshot(): Promise<MetricsJson> {
    return this.registry.getMetricsAsJSON();
  }
}
