/** Percentiles of one run's latencies, in ms; null when the run had none of that kind. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

/**
 * Sorts `samples` once (in place: the caller hands over its array) and reads
 * nearest-rank percentiles from it, as bench/stats.ts's percentile() does.
 * A run keeps every sample (tens of thousands of numbers): exact, and cheaper
 * than a histogram at this size.
 */
export function summarizeLatencies(samples: number[]): LatencySummary {
  if (samples.length === 0) return { count: 0, p50: null, p90: null, p99: null, max: null };
  samples.sort((a, b) => a - b);
  return { count: samples.length, p50: rank(samples, 50), p90: rank(samples, 90), p99: rank(samples, 99), max: samples[samples.length - 1]! };
}

/** Nearest-rank percentile of a sorted, non-empty array. */
function rank(sorted: readonly number[], p: number): number {
  const r = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[r - 1]!;
}
