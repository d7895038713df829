/**
 * Options for prom-client's `collectDefaultMetrics` in every process (master
 * and workers). Event-loop delay is sampled every 100 ms: prom-client's 10 ms
 * default wakes an idle process 100 times a second (measured: an idle worker's
 * CPU went from 40 to 100 ms per 10 s; at 100 ms it is back to 40-50).
 */
export const DEFAULT_METRICS_OPTIONS = { eventLoopMonitoringPrecision: 100 } as const;
