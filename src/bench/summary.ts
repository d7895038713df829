import type { ServerName } from './servers.js';
import { median } from './stats.js';
import type { Measurement, Workload } from './throughput.js';

/** Medians over the rounds for one server under one workload. */
export interface SummaryRow {
  readonly workload: Workload;
  readonly server: ServerName;
  readonly runs: number;
  readonly rps: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly cpuUsPerRequest: number;
  /** rps / node:cluster's rps under the same workload. */
  readonly rpsRatio: number | null;
  /** node:cluster's CPU per request / this one's: above 1 means cheaper per request. */
  readonly cpuEfficiencyRatio: number | null;
  /** Summed over the rounds. */
  readonly errors: number;
  readonly non2xx: number;
}

export const BASELINE: ServerName = 'node:cluster';

/** Targets from the issue, for rocket-cluster against node:cluster. */
export const TARGETS = {
  keepAliveRatio: 1.1,
  closeRatio: 2,
  /** Below this the close result is a shortfall that needs a profile. */
  closeShortfall: 1.5,
  parkedSocketBytes: 4096,
} as const;

export function summarize(measurements: readonly Measurement[]): SummaryRow[] {
  const groups = new Map<string, Measurement[]>();
  for (const m of measurements) {
    const key = `${m.workload}\0${m.server}`;
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  const base = (rows: readonly Omit<SummaryRow, 'rpsRatio' | 'cpuEfficiencyRatio'>[]): SummaryRow[] =>
    rows.map((r) => {
      const b = rows.find((x) => x.workload === r.workload && x.server === BASELINE);
      return {
        ...r,
        rpsRatio: b ? r.rps / b.rps : null,
        cpuEfficiencyRatio: b ? b.cpuUsPerRequest / r.cpuUsPerRequest : null,
      };
    });
  return base(
    [...groups.values()].map((ms) => {
      const p50 = ms.map((m) => m.load.p50Ms).filter((v): v is number => v !== null);
      const p99 = ms.map((m) => m.load.p99Ms).filter((v): v is number => v !== null);
      return {
        workload: ms[0]!.workload,
        server: ms[0]!.server,
        runs: ms.length,
        rps: median(ms.map((m) => m.load.rps)),
        p50Ms: p50.length > 0 ? median(p50) : null,
        p99Ms: p99.length > 0 ? median(p99) : null,
        cpuUsPerRequest: median(ms.map((m) => m.serverCpuUsPerRequest)),
        errors: ms.reduce((a, m) => a + m.load.errors, 0),
        non2xx: ms.reduce((a, m) => a + m.load.non2xx, 0),
      };
    }),
  );
}
