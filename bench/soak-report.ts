import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LogLine } from './children.js';
import type { LatencySummary } from './load/latency.js';

// The soak's result shape, the RSS figures read from its samples, its
// verdicts against issue 11's targets and its markdown summary (bench/soak.ts
// runs it).

/** A trend fitted to less than this many seconds after the baseline is not shown: GC swings of a few MB dominate it. */
const TREND_MIN_S = 600;
/** Issue 11 item 5: RSS growth of the master and of the monitor over the run, and failed requests. */
export const SOAK_TARGETS = { rssGrowthBytes: 10 * 2 ** 20, failed: 0 } as const;

export interface SoakOptions {
  readonly minutes: number;
  readonly reloadEveryS: number;
  readonly connections: number;
  readonly gapMs: number;
  readonly sampleS: number;
  /** Already capped at a quarter of the run. */
  readonly warmupS: number;
  readonly out: string;
  readonly serverArgs: readonly string[];
}

export interface ReloadRecord {
  /** Seconds after the load started that SIGHUP was sent. */
  readonly atS: number;
  /** SIGHUP to the master's line saying how it ended. */
  readonly ms: number;
  readonly outcome: 'complete' | 'aborted' | 'refused' | 'timed out';
  readonly message?: string;
}

export interface RssSample {
  readonly atS: number;
  readonly masterRss: number | null;
  /** From /status `monitor.pid`: it changes only if the monitor died and was replaced. */
  readonly monitorPid: number | null;
  readonly monitorRss: number | null;
  readonly generation: number | null;
  readonly parked: number | null;
}

/** One process's RSS, bytes: before the load, at the baseline, at the end, the highest after the baseline, and the least-squares trend after it. */
export interface RssSeries {
  readonly startup: number | null;
  readonly baseline: number | null;
  readonly end: number | null;
  readonly max: number | null;
  /** end − baseline; null for the monitor if it was replaced in between. */
  readonly growth: number | null;
  readonly slopePerHour: number;
  /** Samples the trend is fitted to. */
  readonly points: number;
}

export interface SoakRss {
  readonly masterPid: number;
  readonly baselineAtS: number;
  readonly baselineWhy: string;
  readonly endAtS: number;
  readonly master: RssSeries;
  readonly monitor: RssSeries;
  /** Every monitor pid seen: more than one means it was replaced. */
  readonly monitorPids: readonly number[];
}

export interface Verdict {
  readonly what: string;
  readonly measured: string;
  readonly target: string;
  readonly ok: boolean;
}

export interface SoakResult {
  readonly date: string;
  readonly node: string;
  readonly machine: { readonly cpus: number; readonly loadavgBefore: readonly number[]; readonly loadavgAfter: readonly number[] };
  readonly options: SoakOptions;
  readonly clients: { readonly keepAlive: number; readonly thinking: number; readonly close: number };
  readonly loadS: number;
  readonly requests: number;
  readonly rps: number;
  readonly latencyMs: { readonly keepAlive: LatencySummary; readonly close: LatencySummary };
  readonly failed: number;
  readonly failures: Readonly<Record<string, number>>;
  /** The first 200 failures: when, on which kind of connection, why. */
  readonly failedSamples: readonly { readonly atS: number; readonly kind: string; readonly why: string }[];
  readonly reloads: readonly ReloadRecord[];
  readonly rss: SoakRss;
  /** CPU over the load, in % of one core: the whole server tree (exited workers included), and this client. */
  readonly cpu: { readonly serverPctOfCore: number; readonly clientPctOfCore: number };
  readonly statusEnd: {
    readonly generation: number;
    readonly workers: string;
    readonly restarts: number;
    readonly monitorRestarts: number;
    readonly parkedLost: number;
    readonly parkRefused: number;
    readonly queueRejected: number;
    readonly queueTimedOut: number;
    readonly parks: number;
    readonly wakes: number;
    readonly moved: number;
    readonly logsDropped: number;
  };
  /** Warn-or-worse lines the cluster logged (the first 50). */
  readonly serverProblems: readonly LogLine[];
  readonly samples: readonly RssSample[];
  readonly verdicts: readonly Verdict[];
}

const MB = 2 ** 20;
const mb = (b: number | null, signed = false): string => (b === null ? '—' : `${signed && b >= 0 ? '+' : ''}${(b / MB).toFixed(1)} MB`);
const ms = (v: number | null): string => (v === null ? '—' : v.toFixed(1));
const int = (n: number): string => n.toLocaleString('en-US');

/** The baseline is the first sample after the warm-up and after the first reload ended (when one was due before the end). */
export function rssFigures(masterPid: number, samples: readonly RssSample[], startup: { master: number | null; monitor: number | null }, o: SoakOptions, reloads: readonly ReloadRecord[]): SoakRss {
  const first = reloads[0];
  const afterReloadS = first === undefined ? 0 : first.atS + first.ms / 1000;
  const fromS = Math.max(o.warmupS, afterReloadS);
  const baseline = samples.find((s) => s.atS >= fromS) ?? samples.at(-1)!;
  const end = samples.at(-1)!;
  const after = samples.filter((s) => s.atS >= baseline.atS);
  const series = (pick: (s: RssSample) => number | null) => {
    const points = after.map((s) => [s.atS, pick(s)] as const).filter((p): p is readonly [number, number] => p[1] !== null);
    const b = pick(baseline);
    const e = pick(end);
    return { baseline: b, end: e, max: points.length ? Math.max(...points.map((p) => p[1])) : null, growth: b === null || e === null ? null : e - b, slopePerHour: slope(points) * 3600, points: points.length };
  };
  const monitorPids = [...new Set(samples.map((s) => s.monitorPid).filter((p): p is number => p !== null))];
  const sameMonitor = baseline.monitorPid !== null && baseline.monitorPid === end.monitorPid;
  const monitor = series((s) => (s.monitorPid === end.monitorPid ? s.monitorRss : null));
  return {
    masterPid,
    baselineAtS: baseline.atS,
    baselineWhy: `the first sample after ${o.warmupS.toFixed(0)} s of warm-up${first === undefined ? '' : ` and after the first reload ended (${afterReloadS.toFixed(1)} s)`}`,
    endAtS: end.atS,
    master: { startup: startup.master, ...series((s) => s.masterRss) },
    monitor: { startup: startup.monitor, ...(sameMonitor ? monitor : { ...monitor, growth: null }) },
    monitorPids,
  };
}

/** Least-squares slope of y over x (bytes per second); 0 with fewer than 2 points. */
function slope(points: readonly (readonly [number, number])[]): number {
  if (points.length < 2) return 0;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const sxx = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return sxx === 0 ? 0 : points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) / sxx;
}

export function verdictsOf(r: Omit<SoakResult, 'verdicts'>): Verdict[] {
  const complete = r.reloads.filter((x) => x.outcome === 'complete').length;
  const growth = (what: string, s: RssSeries, note: string): Verdict => ({
    what: `${what} RSS growth, baseline → end`,
    measured: s.growth === null ? `— (${note})` : mb(s.growth, true),
    target: `< ${mb(SOAK_TARGETS.rssGrowthBytes)}`,
    ok: s.growth !== null && s.growth < SOAK_TARGETS.rssGrowthBytes,
  });
  return [
    { what: 'failed requests', measured: `${int(r.failed)} of ${int(r.requests)}`, target: String(SOAK_TARGETS.failed), ok: r.failed <= SOAK_TARGETS.failed },
    { what: 'reloads completed', measured: `${complete} of ${r.reloads.length} sent`, target: 'all', ok: complete === r.reloads.length },
    growth('master', r.rss.master, 'no sample'),
    growth('monitor', r.rss.monitor, `the monitor was replaced: pids ${r.rss.monitorPids.join(', ')}`),
  ];
}

export function renderSoak(r: SoakResult): string {
  const o = r.options;
  const lat = (name: string, l: LatencySummary) => `${name} ${int(l.count)} (p50 ${ms(l.p50)} ms, p99 ${ms(l.p99)} ms, max ${ms(l.max)} ms)`;
  const trendS = r.rss.endAtS - r.rss.baselineAtS;
  const row = (name: string, pid: string, s: RssSeries) =>
    `| ${name} | ${pid} | ${mb(s.startup)} | ${mb(s.baseline)} | ${mb(s.end)} | ${mb(s.max)} | ${mb(s.growth, true)} | ${trendS < TREND_MIN_S ? `— (${trendS.toFixed(0)} s)` : `${mb(s.slopePerHour, true)}/h`} |`;
  const reloadMs = r.reloads.map((x) => x.ms);
  const st = r.statusEnd;
  const out = [
    `## Soak — ${(r.loadS / 60).toFixed(1)} min of mixed keep-alive and close load, a reload every ${o.reloadEveryS} s (${r.date})`,
    '',
    `Node ${r.node}, ${r.machine.cpus} CPUs, load average before ${r.machine.loadavgBefore.map((l) => l.toFixed(2)).join(' ')}, after ${r.machine.loadavgAfter.map((l) => l.toFixed(2)).join(' ')}. ` +
      `rocket-cluster, 2 workers, examples/hello.mjs, --admin${o.serverArgs.length ? `, ${o.serverArgs.join(' ')}` : ''}. ` +
      `${r.clients.keepAlive + r.clients.close} clients: ${r.clients.keepAlive - r.clients.thinking} keep-alive every ~${o.gapMs} ms, ${r.clients.thinking} keep-alive thinking 1-3 s, ` +
      `${r.clients.close} \`Connection: close\` every ~${o.gapMs} ms.`,
    '',
    '| | measured | target | verdict |',
    '|---|---|---|---|',
    ...r.verdicts.map((v) => `| ${v.what} | ${v.measured} | ${v.target} | ${v.ok ? 'met' : '**missed**'} |`),
    '',
    `RSS baseline: the sample at ${r.rss.baselineAtS.toFixed(1)} s (${r.rss.baselineWhy}); end: the last sample under load, at ${r.rss.endAtS.toFixed(1)} s; sampled every ${o.sampleS} s.`,
    '',
    '| process | pid | before the load | baseline | end | max after baseline | growth | trend after baseline |',
    '|---|---|---|---|---|---|---|---|',
    row('master', String(r.rss.masterPid), r.rss.master),
    row('monitor', r.rss.monitorPids.join(', '), r.rss.monitor),
    '',
    `Load: ${int(r.requests)} requests in ${r.loadS.toFixed(0)} s (${r.rps.toFixed(0)}/s): ${lat('keep-alive', r.latencyMs.keepAlive)}, ${lat('close', r.latencyMs.close)}. ` +
      `CPU: server ${r.cpu.serverPctOfCore.toFixed(0)}% of one core, client ${r.cpu.clientPctOfCore.toFixed(0)}%.`,
    `Reloads: ${r.reloads.length} sent, ${r.reloads.map((x) => x.outcome).filter((x) => x === 'complete').length} complete` +
      (reloadMs.length ? `, ${Math.min(...reloadMs)}-${Math.max(...reloadMs)} ms each` : '') +
      `${r.reloads.some((x) => x.outcome !== 'complete') ? `; not complete: ${r.reloads.filter((x) => x.outcome !== 'complete').map((x) => `${x.atS.toFixed(0)} s ${x.outcome}: ${x.message ?? ''}`).join('; ')}` : ''}.`,
    `Status at the end: generation ${st.generation}, workers ${st.workers}, restarts ${st.restarts}, monitor restarts ${st.monitorRestarts}, parked lost ${st.parkedLost}, park refused ${st.parkRefused}, ` +
      `queue rejected ${st.queueRejected}, timed out ${st.queueTimedOut}, parks ${int(st.parks)}, wakes ${int(st.wakes)}, moved ${st.moved}, log lines dropped ${st.logsDropped}; ` +
      `warn-or-worse log lines ${r.serverProblems.length}.`,
  ];
  if (r.failed > 0) {
    out.push(`Failures by reason: ${Object.entries(r.failures).map(([k, n]) => `${k} ${n}`).join(', ')}.`);
    out.push(`First failures (s after the start, connection kind, reason; reloads were sent at ${r.reloads.map((x) => x.atS.toFixed(1)).join(', ')} s): ` +
      r.failedSamples.slice(0, 20).map((f) => `${f.atS.toFixed(2)} ${f.kind} ${f.why}`).join('; ') + '.');
  }
  return `${out.join('\n')}\n`;
}

export function writeSoak(file: string, r: SoakResult): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
}
