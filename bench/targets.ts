import type { BalanceMeasurement } from './balance.js';
import type { ServerName } from './servers.js';
import { median } from './stats.js';
import { BASELINE } from './summary.js';
import type { ThinkMeasurement } from './think-summary.js';
import type { IdleRss, Measurement, Workload } from './throughput.js';

/**
 * Issue 9's targets, each checked on values paired within a round (both
 * contenders measured back to back), so that drift between rounds cancels:
 * the verdict is on the median of those values, the range shows their spread.
 */
export interface TargetCheck {
  readonly target: string;
  /** `×` for ratios, `%` for shares (stored as fractions), `MB` for memory (stored in bytes). */
  readonly unit: '×' | '%' | 'MB';
  readonly op: '≥' | '≤';
  readonly limit: number;
  /** One per round (RSS under load: one per round and workload). */
  readonly values: number[];
  readonly median: number | null;
  readonly min: number | null;
  readonly max: number | null;
  /** null: not measured (a workload skipped, a part failed). */
  readonly met: boolean | null;
  readonly note?: string;
}

export const ROCKET: ServerName = 'rocket-cluster';
export const ROCKET_LOG: ServerName = 'rocket-cluster +access log';
export const SCHED_NONE: ServerName = 'node:cluster SCHED_NONE';
export const ROCKET_4: ServerName = 'rocket-cluster, 4 workers';
export const ROCKET_BALANCING: ServerName = 'rocket-cluster, per-request balancing';
const MB = 2 ** 20;

export const ISSUE9 = {
  closeVsRr: 2.0,
  closeVsSchedNone: 0.9,
  keepAliveWithLogVsRr: 1.0,
  cpuVsRr: 1.05,
  accessLogCost: 1.1,
  maxShare: 0.4,
  rssOverRrBytes: 60 * MB,
  workerRssOverAppBytes: 15 * MB,
} as const;

export interface TargetInputs {
  readonly measurements: readonly Measurement[];
  readonly idleRss: readonly IdleRss[];
  readonly balance: readonly BalanceMeasurement[];
}

export function evaluateTargets(t: TargetInputs): TargetCheck[] {
  const ms = t.measurements;
  const rps = (m: Measurement): number => m.load.rps;
  const cpu = (m: Measurement): number => m.serverCpuUsPerRequest;
  const idle = (name: ServerName): number | undefined => t.idleRss.find((r) => r.server === name)?.bytes;
  const idleRocket = idle(ROCKET);
  const idleRr = idle(BASELINE);
  const rssLoad = (['keep-alive', 'close'] as const).flatMap((w) => paired(ms, w, ROCKET, BASELINE, (a, b) => a.rssPeakBytes - b.rssPeakBytes));
  const workerIdle = (name: ServerName): number | null | undefined => t.idleRss.find((r) => r.server === name)?.workerBytes;
  const workerIdleRocket = workerIdle(ROCKET);
  const workerIdleRr = workerIdle(BASELINE);
  const workerLoad = (w: Workload) =>
    paired(ms, w, ROCKET, BASELINE, (a, b) => (a.workerRssPeakBytes === null || b.workerRssPeakBytes === null ? Number.NaN : a.workerRssPeakBytes - b.workerRssPeakBytes));
  return [
    check(`\`Connection: close\` req/s, ${ROCKET} ÷ ${BASELINE} (RR)`, '×', '≥', ISSUE9.closeVsRr, paired(ms, 'close', ROCKET, BASELINE, ratio(rps))),
    check(`\`Connection: close\` req/s, ${ROCKET} ÷ ${SCHED_NONE}`, '×', '≥', ISSUE9.closeVsSchedNone, paired(ms, 'close', ROCKET, SCHED_NONE, ratio(rps))),
    check(`keep-alive req/s, ${ROCKET_LOG} (defaults) ÷ ${BASELINE} (RR)`, '×', '≥', ISSUE9.keepAliveWithLogVsRr, paired(ms, 'keep-alive', ROCKET_LOG, BASELINE, ratio(rps))),
    check(`keep-alive CPU µs/request, ${ROCKET} (access log off) ÷ ${BASELINE} (RR)`, '×', '≤', ISSUE9.cpuVsRr, paired(ms, 'keep-alive', ROCKET, BASELINE, ratio(cpu))),
    check(`access log cost: keep-alive CPU µs/request, ${ROCKET_LOG} ÷ ${ROCKET}`, '×', '≤', ISSUE9.accessLogCost, paired(ms, 'keep-alive', ROCKET_LOG, ROCKET, ratio(cpu)), closeNote(ms)),
    check(`balance: busiest worker's share of requests, ${ROCKET_4}, \`Connection: close\``, '%', '≤', ISSUE9.maxShare, t.balance.filter((b) => b.server === ROCKET_4).map((b) => b.maxShare), balanceNote(t.balance)),
    check(`RSS idle, all processes, ${ROCKET} − ${BASELINE} (RR)`, 'MB', '≤', ISSUE9.rssOverRrBytes, idleRocket !== undefined && idleRr !== undefined ? [idleRocket - idleRr] : [], ussNote(t.idleRss)),
    check(`RSS under load (peak per run, both workloads), ${ROCKET} − ${BASELINE} (RR)`, 'MB', '≤', ISSUE9.rssOverRrBytes, rssLoad),
    check(`one worker's RSS idle, ${ROCKET} − ${BASELINE} (RR) (the same app)`, 'MB', '≤', ISSUE9.workerRssOverAppBytes, workerIdleRocket != null && workerIdleRr != null ? [workerIdleRocket - workerIdleRr] : []),
    check(`one worker's RSS under keep-alive load (peak per run), ${ROCKET} − ${BASELINE} (RR)`, 'MB', '≤', ISSUE9.workerRssOverAppBytes, workerLoad('keep-alive')),
    check(`one worker's RSS under \`Connection: close\` load (peak per run), ${ROCKET} − ${BASELINE} (RR)`, 'MB', '≤', ISSUE9.workerRssOverAppBytes, workerLoad('close')),
  ];
}

/** The think-time and overload parts' targets: rocket-cluster against node:cluster (RR) with browser-like clients. */
export const THINK_TARGETS = {
  /** Fast requests' p99 under think-time load, rocket-cluster with its defaults ÷ RR. */
  fastP99Defaults: 1.0,
  /**
   * The same with the settings recommended for this workload: the defaults
   * (per-request balancing, THINK_BALANCING_ARGS in bench/servers.ts, is
   * reported beside them, and costs more than it saves).
   */
  fastP99Recommended: 0.5,
  /** Overload: requests served (2xx), rocket-cluster ÷ RR. */
  overloadServed: 1.0,
  /** Overload: served fast requests' p90, rocket-cluster ÷ RR. */
  overloadFastP90: 1.0,
} as const;

export interface ThinkTargetInputs {
  readonly thinkTime?: readonly ThinkMeasurement[];
  readonly overload?: readonly ThinkMeasurement[];
}

/** Like evaluateTargets: each ratio paired within a round, the verdict on their median. Checks of a part that did not run are left out. */
export function evaluateThinkTimeTargets(t: ThinkTargetInputs): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const of = (f: (m: ThinkMeasurement) => number | null) => (a: ThinkMeasurement, b: ThinkMeasurement): number => (f(a) ?? Number.NaN) / (f(b) ?? Number.NaN);
  const fastP99 = (m: ThinkMeasurement): number | null => m.load.fastMs.p99;
  const fastP90 = (m: ThinkMeasurement): number | null => m.load.fastMs.p90;
  if (t.thinkTime) {
    const ms = t.thinkTime;
    checks.push(
      check(`think-time: fast requests' p99, ${ROCKET} (defaults) ÷ ${BASELINE} (RR)`, '×', '≤', THINK_TARGETS.fastP99Defaults, pairedRuns(ms, ROCKET, BASELINE, of(fastP99)), timeoutNote(ms)),
      check(
        `think-time: fast requests' p99, the recommended settings (${ROCKET}, defaults) ÷ ${BASELINE} (RR)`, '×', '≤', THINK_TARGETS.fastP99Recommended,
        pairedRuns(ms, ROCKET, BASELINE, of(fastP99)), balancingNote(pairedRuns(ms, ROCKET_BALANCING, BASELINE, of(fastP99))),
      ),
    );
  }
  if (t.overload) {
    const ms = t.overload;
    checks.push(
      check(`overload: requests served (2xx), ${ROCKET} ÷ ${BASELINE} (RR)`, '×', '≥', THINK_TARGETS.overloadServed, pairedRuns(ms, ROCKET, BASELINE, of((m) => m.load.served)), timeoutNote(ms)),
      check(`overload: served fast requests' p90, ${ROCKET} ÷ ${BASELINE} (RR)`, '×', '≤', THINK_TARGETS.overloadFastP90, pairedRuns(ms, ROCKET, BASELINE, of(fastP90))),
    );
  }
  return checks;
}

/** Per-request balancing's own ratio, beside the recommended settings' check. */
function balancingNote(ratios: readonly number[]): string | undefined {
  if (ratios.length === 0) return undefined;
  const sorted = [...ratios].sort((a, b) => a - b);
  return `${ROCKET_BALANCING}: ${median(ratios).toFixed(2)}× (${sorted[0]!.toFixed(2)}–${sorted.at(-1)!.toFixed(2)})`;
}

/** `f(a, b)` for every round in which both were measured: paired() for the think-time parts, which have no workloads. */
function pairedRuns(ms: readonly ThinkMeasurement[], a: ServerName, b: ServerName, f: (a: ThinkMeasurement, b: ThinkMeasurement) => number): number[] {
  const bs = new Map(ms.filter((m) => m.server === b).map((m) => [m.round, m]));
  return ms.filter((m) => m.server === a).flatMap((ma) => {
    const mb = bs.get(ma.round);
    const v = mb === undefined ? Number.NaN : f(ma, mb);
    return Number.isFinite(v) ? [v] : [];
  });
}

/** A latency percentile cannot exceed the client's timeout: timeouts are said beside the verdict. */
function timeoutNote(ms: readonly ThinkMeasurement[]): string | undefined {
  const sums = new Map<ServerName, number>();
  for (const m of ms) sums.set(m.server, (sums.get(m.server) ?? 0) + m.load.timeouts);
  const parts = [...sums].filter(([, n]) => n > 0).map(([s, n]) => `${s} ${n}`);
  return parts.length > 0 ? `client timeouts over all rounds: ${parts.join(', ')}` : undefined;
}

const ratio = (f: (m: Measurement) => number) => (a: Measurement, b: Measurement): number => f(a) / f(b);

/** `f(a, b)` for every round in which both `a` and `b` were measured under `workload`. */
function paired(ms: readonly Measurement[], workload: Workload, a: ServerName, b: ServerName, f: (a: Measurement, b: Measurement) => number): number[] {
  const of = (name: ServerName) => new Map(ms.filter((m) => m.workload === workload && m.server === name).map((m) => [m.round, m]));
  const as = of(a);
  const bs = of(b);
  return [...as].flatMap(([round, ma]) => {
    const mb = bs.get(round);
    const v = mb === undefined ? Number.NaN : f(ma, mb);
    return Number.isFinite(v) ? [v] : [];
  });
}

function check(target: string, unit: TargetCheck['unit'], op: TargetCheck['op'], limit: number, values: number[], note?: string): TargetCheck {
  const med = values.length > 0 ? median(values) : null;
  return {
    target,
    unit,
    op,
    limit,
    values,
    median: med,
    min: values.length > 0 ? Math.min(...values) : null,
    max: values.length > 0 ? Math.max(...values) : null,
    met: med === null ? null : op === '≥' ? med >= limit : med <= limit,
    ...(note !== undefined ? { note } : {}),
  };
}

/** Idle USS beside the RSS target: RSS counts the node binary's shared text once per process, USS not at all. */
function ussNote(idle: readonly IdleRss[]): string | undefined {
  const rocket = idle.find((r) => r.server === ROCKET);
  const rr = idle.find((r) => r.server === BASELINE);
  if (!rocket || !rr || rocket.ussBytes === 0 || rr.ussBytes === 0) return undefined;
  const mb = (b: number) => (b / MB).toFixed(1);
  return `USS idle (pages each process maps alone, not the node binary's shared text): ${mb(rocket.ussBytes)} MB in ${rocket.processes} processes against ${mb(rr.ussBytes)} MB in ${rr.processes}, ${mb(rocket.ussBytes - rr.ussBytes)} MB more`;
}

function closeNote(ms: readonly Measurement[]): string | undefined {
  const v = paired(ms, 'close', ROCKET_LOG, ROCKET, ratio((m) => m.serverCpuUsPerRequest));
  return v.length > 0 ? `under \`Connection: close\`: ${median(v).toFixed(2)}×` : undefined;
}

function balanceNote(balance: readonly BalanceMeasurement[]): string | undefined {
  const notes: string[] = [];
  const none = balance.filter((b) => b.server !== ROCKET_4 && Number.isFinite(b.maxShare)).map((b) => b.maxShare);
  if (none.length > 0) notes.push(`${balance.find((b) => b.server !== ROCKET_4)!.server}: ${(median(none) * 100).toFixed(1)}%`);
  const changed = balance.filter((b) => b.note !== undefined).length;
  if (changed > 0) notes.push(`${changed} run(s) with a worker change, see the JSON`);
  return notes.length > 0 ? notes.join('; ') : undefined;
}
