import type { ServerName } from './servers.js';
import { median } from './stats.js';
import { BASELINE } from './summary.js';
import type { ThinkLoadResult } from './load/think-client.js';

/** rocket-cluster's own counters over one run (each run has a fresh cluster). */
export interface RocketCounters {
  readonly parks: number;
  readonly wakes: number;
  /** Connections answered 503: the queue was full. */
  readonly rejected: number;
  readonly parkedLost: number;
  readonly restarts: number;
}

export interface ThinkMeasurement {
  readonly server: ServerName;
  readonly round: number;
  readonly load: ThinkLoadResult;
  /** CPU of the server's whole process tree during the run. */
  readonly serverCpuMs: number;
  readonly serverCpuUsPerServed: number;
  /** Highest summed RSS of all the server's processes, sampled every RSS_SAMPLE_MS. */
  readonly rssPeakBytes: number;
  /** Highest summed RSS of its workers (the processes running the app). */
  readonly workersRssPeakBytes: number;
  readonly processes: number;
  readonly workers: number;
  readonly rocket?: RocketCounters;
}

/** Median over the rounds with their lowest and highest value; all null when no round measured it. */
export interface Spread {
  readonly median: number | null;
  readonly min: number | null;
  readonly max: number | null;
}

/** One contender of a think-time or overload part, over its rounds. */
export interface ThinkSummaryRow {
  readonly server: ServerName;
  readonly runs: number;
  readonly served: Spread;
  readonly rps: Spread;
  readonly fastP50Ms: Spread;
  readonly fastP90Ms: Spread;
  readonly fastP99Ms: Spread;
  readonly slowP50Ms: Spread;
  readonly slowP99Ms: Spread;
  readonly timeouts: Spread;
  readonly errors: Spread;
  readonly status503: Spread;
  /** Non-2xx other than 503. */
  readonly otherNon2xx: Spread;
  readonly connects: Spread;
  readonly serverCpuMs: Spread;
  readonly cpuUsPerServed: Spread;
  readonly clientCpuMs: Spread;
  readonly rssPeakBytes: Spread;
  readonly workersRssPeakBytes: Spread;
  /** Medians of this contender ÷ medians of node:cluster (RR); null for it or when missing. */
  readonly rpsRatio: number | null;
  readonly fastP90Ratio: number | null;
  readonly fastP99Ratio: number | null;
  readonly cpuRatio: number | null;
}

/** Finite values only: a round without slow requests served has no slow p99, and counts for nothing here. */
export function spread(values: readonly (number | null)[]): Spread {
  const v = values.filter((n): n is number => n !== null && Number.isFinite(n));
  if (v.length === 0) return { median: null, min: null, max: null };
  return { median: median(v), min: Math.min(...v), max: Math.max(...v) };
}

type Base = Omit<ThinkSummaryRow, 'rpsRatio' | 'fastP90Ratio' | 'fastP99Ratio' | 'cpuRatio'>;

/** One row per contender, in the order they were first measured. */
export function summarizeThink(measurements: readonly ThinkMeasurement[]): ThinkSummaryRow[] {
  const servers = [...new Set(measurements.map((m) => m.server))];
  const rows: Base[] = servers.map((server) => {
    const ms = measurements.filter((m) => m.server === server);
    const of = (f: (m: ThinkMeasurement) => number | null): Spread => spread(ms.map(f));
    return {
      server,
      runs: ms.length,
      served: of((m) => m.load.served),
      rps: of((m) => m.load.rps),
      fastP50Ms: of((m) => m.load.fastMs.p50),
      fastP90Ms: of((m) => m.load.fastMs.p90),
      fastP99Ms: of((m) => m.load.fastMs.p99),
      slowP50Ms: of((m) => m.load.slowMs.p50),
      slowP99Ms: of((m) => m.load.slowMs.p99),
      timeouts: of((m) => m.load.timeouts),
      errors: of((m) => m.load.errors),
      status503: of((m) => m.load.status503),
      otherNon2xx: of((m) => m.load.non2xx - m.load.status503),
      connects: of((m) => m.load.connects),
      serverCpuMs: of((m) => m.serverCpuMs),
      cpuUsPerServed: of((m) => m.serverCpuUsPerServed),
      clientCpuMs: of((m) => m.load.clientCpuMs),
      rssPeakBytes: of((m) => m.rssPeakBytes),
      workersRssPeakBytes: of((m) => m.workersRssPeakBytes),
    };
  });
  const base = rows.find((r) => r.server === BASELINE);
  const ratio = (a: Spread, b: Spread | undefined): number | null => (b?.median != null && a.median !== null && b.median !== 0 ? a.median / b.median : null);
  return rows.map((r) => ({
    ...r,
    rpsRatio: ratio(r.rps, base?.rps),
    fastP90Ratio: ratio(r.fastP90Ms, base?.fastP90Ms),
    fastP99Ratio: ratio(r.fastP99Ms, base?.fastP99Ms),
    cpuRatio: ratio(r.cpuUsPerServed, base?.cpuUsPerServed),
  }));
}
