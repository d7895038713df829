import type { ReloadMeasurement } from './reload.js';
import type { ServerName } from './servers.js';
import { median } from './stats.js';
import type { IdleRss, Measurement, Workload } from './throughput.js';

/** Medians over the rounds for one server under one workload. */
export interface SummaryRow {
  readonly workload: Workload;
  readonly server: ServerName;
  readonly runs: number;
  readonly rps: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly cpuUsPerRequest: number;
  /** rps / node:cluster's (RR) rps under the same workload. */
  readonly rpsRatio: number | null;
  /** This server's CPU per request / node:cluster's (RR): below 1 means cheaper per request. */
  readonly cpuRatio: number | null;
  /** Summed RSS of the process tree before any load (the same in both workloads' rows). */
  readonly rssIdleBytes: number | null;
  /** Median over the rounds of the highest RSS sampled during each run. */
  readonly rssLoadBytes: number;
  /** rssLoadBytes - node:cluster's (RR) under the same workload. */
  readonly rssLoadVsBaselineBytes: number | null;
  /** Summed over the rounds. */
  readonly errors: number;
  readonly non2xx: number;
}

/** node:cluster with SCHED_RR: every ratio is against it. */
export const BASELINE: ServerName = 'node:cluster';

/** Targets from the issues, for rocket-cluster against node:cluster (see targets.ts for issue 9's). */
export const TARGETS = {
  parkedSocketBytes: 4096,
  /** Queue spike to the first response from a new worker. */
  spikeToServeMs: 500,
} as const;

type Base = Omit<SummaryRow, 'rpsRatio' | 'cpuRatio' | 'rssLoadVsBaselineBytes'>;

export function summarize(measurements: readonly Measurement[], idleRss: readonly IdleRss[]): SummaryRow[] {
  const groups = new Map<string, Measurement[]>();
  for (const m of measurements) {
    const key = `${m.workload}\0${m.server}`;
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  const rows: Base[] = [...groups.values()].map((ms) => {
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
      rssIdleBytes: idleRss.find((r) => r.server === ms[0]!.server)?.bytes ?? null,
      rssLoadBytes: median(ms.map((m) => m.rssPeakBytes)),
      errors: ms.reduce((a, m) => a + m.load.errors, 0),
      non2xx: ms.reduce((a, m) => a + m.load.non2xx, 0),
    };
  });
  return rows.map((r) => {
    const b = rows.find((x) => x.workload === r.workload && x.server === BASELINE);
    return {
      ...r,
      rpsRatio: b ? r.rps / b.rps : null,
      cpuRatio: b ? r.cpuUsPerRequest / b.cpuUsPerRequest : null,
      rssLoadVsBaselineBytes: b ? r.rssLoadBytes - b.rssLoadBytes : null,
    };
  });
}

/** Reloads under load: medians over the rounds for one server. */
export interface ReloadSummaryRow {
  readonly server: ServerName;
  readonly rounds: number;
  readonly reloadsPerRound: number;
  readonly requests: number;
  /** Socket errors + non-2xx. */
  readonly failed: number;
  readonly failedPerReload: number;
  readonly errors: number;
  readonly non2xx: number;
  /** Summed over the rounds. */
  readonly failedTotal: number;
  /** rocket-cluster's /status: parks and wakes during a round (median), null when not available. */
  readonly parks: number | null;
  readonly wakes: number | null;
  /** SIGHUP -> the server's "complete" line, over every completed reload of every round. */
  readonly reloadMs: { readonly median: number; readonly max: number; readonly count: number };
  /** Reloads that did not complete (aborted, refused), or ended after the load stopped. */
  readonly notComplete: number;
  readonly afterLoad: number;
}

export function summarizeReloads(measurements: readonly ReloadMeasurement[]): ReloadSummaryRow[] {
  const servers = [...new Set(measurements.map((m) => m.server))];
  return servers.map((server) => {
    const ms = measurements.filter((m) => m.server === server);
    const all = ms.flatMap((m) => m.reloads);
    const done = all.filter((r) => r.outcome === 'complete').map((r) => r.ms);
    const statuses = ms.map((m) => m.status).filter((s) => s !== undefined);
    const perRound = ms[0]!.reloads.length;
    return {
      server,
      rounds: ms.length,
      reloadsPerRound: perRound,
      requests: median(ms.map((m) => m.load.requests)),
      failed: median(ms.map((m) => m.failed)),
      failedPerReload: median(ms.map((m) => (m.reloads.length > 0 ? m.failed / m.reloads.length : Number.NaN))),
      errors: median(ms.map((m) => m.load.errors)),
      non2xx: median(ms.map((m) => m.load.non2xx)),
      failedTotal: ms.reduce((a, m) => a + m.failed, 0),
      parks: statuses.length > 0 ? median(statuses.map((s) => s.parks)) : null,
      wakes: statuses.length > 0 ? median(statuses.map((s) => s.wakes)) : null,
      reloadMs: { median: median(done), max: done.length > 0 ? Math.max(...done) : Number.NaN, count: done.length },
      notComplete: all.length - done.length,
      afterLoad: all.filter((r) => !r.duringLoad).length,
    };
  });
}
