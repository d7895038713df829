import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PARK_TARGETS } from './park-cost.js';
import { REBALANCE_CONNECTIONS, REBALANCE_TARGETS } from './rebalance.js';
import type { BenchResults } from './results.js';
import { SPIKE_WORKER_CONNECTIONS, type SpikeNotMeasured, type SpikeResult } from './spike.js';
import { BASELINE, TARGETS } from './summary.js';
import type { TargetCheck } from './targets.js';
import { staticLines } from './static-files.js';
import { thinkLines } from './think-report.js';

// The bench's only writer to the terminal: progress on stderr, so that stdout
// carries just the markdown report and can be pasted or redirected as is.

export function progress(text: string): void {
  process.stderr.write(`# ${new Date().toISOString().slice(11, 19)} ${text}\n`);
}

export function print(text: string): void {
  process.stdout.write(text);
}

export function writeJson(file: string, results: BenchResults): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}

const f = (v: number | null | undefined, digits = 0): string => (v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(digits));
const x = (v: number | null): string => (v === null ? '—' : `${v.toFixed(2)}×`);
const verdict = (ok: boolean): string => (ok ? 'met' : '**missed**');
const mb = (b: number | null, signed = false): string => (b === null || Number.isNaN(b) ? '—' : `${signed && b > 0 ? '+' : ''}${(b / 2 ** 20).toFixed(1)}`);
const pct = (share: number): string => (Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : '—');

/** The results as markdown: throughput table, targets, park numbers, failures. */
export function renderMarkdown(r: BenchResults): string {
  const out: string[] = [];
  out.push(`# rocket-cluster benchmark — ${r.date}`, '');
  out.push(`Node ${r.node}, ${r.machine.cpus} CPUs (${r.machine.cpuModel}), ${r.machine.os}; load generator ${r.generator} on the same machine.`, '');
  if (r.throughput) out.push(...throughputLines(r), '');
  if (r.balance) out.push(...balanceLines(r), '');
  if (r.targets) out.push(...targetLines(r.targets, r.parkMemory?.bytesPerSocket), '');
  if (r.parkLatency) {
    const p = r.parkLatency;
    out.push(`## Park → unpark latency — ${p.samples} samples on one keep-alive connection`, '');
    out.push('| request | median ms | p90 ms |', '|---|---:|---:|');
    out.push(`| on a hot connection (in its worker) | ${f(p.hotMs.median, 3)} | ${f(p.hotMs.p90, 3)} |`);
    out.push(`| on a parked connection (monitor → master → worker) | ${f(p.parkedMs.median, 3)} | ${f(p.parkedMs.p90, 3)} |`);
    out.push('', `A park → unpark round trip adds ${f(p.addedMedianMs, 3)} ms (difference of medians).`, '');
  }
  if (r.parkCost) {
    const c = r.parkCost;
    out.push(`## Cost of a park → wake cycle — ${c.cycles} requests ${c.gapMs} ms apart on one keep-alive connection, on two fresh clusters`, '');
    out.push('| cluster | CPU µs per request, all processes | p50 ms | p99 ms | parks | wakes |', '|---|---:|---:|---:|---:|---:|');
    for (const [name, run] of [['every pause parks (`--park-when idle --park-after 40`)', c.parking], ['stays in its worker (`--park-when pressure --park-after 40`: same sweeps, under the mark)', c.staying]] as const) {
      out.push(`| ${name} | ${f(run.cpuUsPerRequest)} | ${f(run.latencyMs.p50, 3)} | ${f(run.latencyMs.p99, 3)} | ${run.parks} | ${run.wakes} |`);
    }
    out.push('');
    out.push(`- CPU per park → wake cycle, all processes ≤ ${PARK_TARGETS.cpuUsPerCycle} µs: ${f(c.cpuUsPerCycle)} µs — ${verdict(c.cpuUsPerCycle <= PARK_TARGETS.cpuUsPerCycle)}`);
    out.push(`- what it adds to the next request: ${f(c.addedP50Ms, 3)} ms at p50, ${f(c.addedP99Ms, 3)} ms at p99 (≤ ${PARK_TARGETS.addedP99Ms} ms: ${verdict(c.addedP99Ms <= PARK_TARGETS.addedP99Ms)})`);
    out.push(`- the floor, without rocket-cluster: one socket handle passed between two plain Node processes costs ${f(c.handleHop.cpuUsPerHop)} µs of CPU (${c.handleHop.hops} hops); a cycle is four hops (worker → master → monitor → master → worker), so ${f(4 * c.handleHop.cpuUsPerHop)} µs`, '');
  }
  if (r.parkMemory) {
    const m = r.parkMemory;
    out.push('## Memory per parked socket', '');
    out.push(`${m.parked} idle sockets parked: monitor (pid ${m.monitorPid}) RSS ${mb(m.rssBeforeBytes)} MB → ${mb(m.rssAfterBytes)} MB, **${f(m.bytesPerSocket)} bytes per socket** (target ≤ ${TARGETS.parkedSocketBytes}: ${verdict(m.bytesPerSocket <= TARGETS.parkedSocketBytes)}).`, '');
  }
  if (r.reload) out.push(...reloadLines(r), '');
  if (r.spikeToServe) out.push(...spikeLines(r.spikeToServe), '');
  if (r.rebalance) out.push(...rebalanceLines(r), '');
  if (r.thinkTime) out.push(...thinkLines(r.thinkTime), '');
  if (r.overload) out.push(...thinkLines(r.overload), '');
  if (r.thinkTimeTargets) out.push(...targetLines(r.thinkTimeTargets, undefined, 'Think-time and overload targets'), '');
  if (r.static) out.push(...staticLines(r.static, r.options, r.generator), '');
  for (const fl of r.failures) out.push(`**${fl.part} failed:** ${fl.message}`, '');
  for (const p of r.serverProblems) out.push(`**${p.server} logged ${p.lines.length} warning/error line(s)**; see .bench/results.json.`, '');
  return `${out.join('\n')}\n`;
}

function rebalanceLines(r: BenchResults): string[] {
  const samples = r.rebalance!;
  const t = REBALANCE_TARGETS;
  const out = [`## Rebalance under keep-alive load — ${samples.length} round(s), ${r.options.rebalanceDuration} s of ${r.generator} with ${REBALANCE_CONNECTIONS} busy keep-alive connections, \`--min-workers 1 --max-workers 2\``, ''];
  out.push('| round | grow after ms | 2nd worker ready after ms | its share in the next 3 s | moved | shrink after load, ms | req/s | errors | non-2xx |');
  out.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of samples) {
    out.push(`| ${s.round} | ${f(s.growAfterMs)} | ${f(s.readyAfterMs)} | ${s.newWorkerShare === null ? '—' : pct(s.newWorkerShare)} | ${s.moved} | ${f(s.shrinkAfterMs)} | ${f(s.load.rps)} | ${s.load.errors} | ${s.load.non2xx} |`);
  }
  const ready = samples.map((s) => s.readyAfterMs);
  const shares = samples.map((s) => s.newWorkerShare);
  const failed = samples.reduce((n, s) => n + s.load.errors + s.load.non2xx, 0);
  const all = <T,>(xs: (T | null)[], ok: (v: T) => boolean) => xs.length > 0 && xs.every((v) => v !== null && ok(v));
  out.push('');
  out.push(`- second worker ready within ${t.readyWithinMs} ms of the load, every round: ${verdict(all(ready, (v) => v <= t.readyWithinMs))}`);
  out.push(`- it serves ≥ ${pct(t.minShare)} of requests in the ${t.shareWindowMs} ms after ready, every round: ${verdict(all(shares, (v) => v >= t.minShare))}`);
  out.push(`- failed requests (socket errors + non-2xx), all rounds: ${failed} — ${verdict(failed === 0)}`);
  out.push(`- back to one worker after the load, every round: ${verdict(all(samples.map((s) => s.shrinkAfterMs), () => true))}`);
  return out;
}

function reloadLines(r: BenchResults): string[] {
  const o = r.options;
  const rl = r.reload!;
  const out: string[] = [];
  out.push(`## Reloads under load — medians of ${o.reloadRounds} round(s), ${o.reloadDuration} s of ${r.generator} with ${o.connections} keep-alive connections, ${o.reloads} reloads each`, '');
  out.push('| server | requests | failed requests | failed per reload | socket errors | non-2xx | failed, all rounds | parks | wakes | reload ms, median | reload ms, max |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of rl.summary) {
    out.push(`| ${s.server} | ${f(s.requests)} | ${f(s.failed)} | ${f(s.failedPerReload, 1)} | ${f(s.errors)} | ${f(s.non2xx)} | ${s.failedTotal} | ${f(s.parks)} | ${f(s.wakes)} | ${f(s.reloadMs.median)} | ${f(s.reloadMs.max)} |`);
  }
  out.push('');
  out.push('Failed = the generator\'s socket errors (connect, read, write, timeout) + non-2xx responses. A reload is SIGHUP to rocket-cluster\'s master, timed until it logs `reload complete`; for node:cluster a rolling restart (fork a new worker, wait for `listening`, `disconnect()` the old one, wait for its exit; one worker at a time). Parks and wakes: rocket-cluster\'s `/status` counters during the round.');
  for (const s of rl.summary) {
    if (s.notComplete > 0) out.push('', `**${s.server}: ${s.notComplete} reload(s) did not complete** (aborted or refused; see .bench/results.json).`);
    if (s.afterLoad > 0) out.push('', `${s.server}: ${s.afterLoad} reload(s) ended after the load stopped; their failures may be missing.`);
  }
  const rocket = rl.summary.find((s) => s.server === 'rocket-cluster');
  if (rocket) {
    const bad = rl.measurements.filter((m) => m.status && (m.status.parkedLost > 0 || m.status.queueRejected > 0 || m.status.restarts > 0));
    out.push('', `rocket-cluster reload (SIGHUP → \`reload complete\`): median ${f(rocket.reloadMs.median)} ms, max ${f(rocket.reloadMs.max)} ms over ${rocket.reloadMs.count} reloads.`);
    if (bad.length > 0) out.push('', `rocket-cluster /status during reloads: ${bad.map((m) => `round ${m.round}: parked lost ${m.status!.parkedLost}, rejected ${m.status!.queueRejected}, restarts ${m.status!.restarts}`).join('; ')}.`);
  }
  return out;
}

function spikeLines(sp: SpikeResult | SpikeNotMeasured): string[] {
  if (!sp.measured) return [`Queue spike → new worker serving: not measured (${sp.reason}).`];
  const first = sp.samples[0];
  return [
    `## Queue spike → new worker serving — ${sp.samples.length} sample(s)`,
    '',
    `A fresh rocket-cluster with \`--min-workers 1 --max-workers 2 --worker-connections ${SPIKE_WORKER_CONNECTIONS}\` gets ${first?.connections ?? '—'} keep-alive connections at once, one request each: the first ${SPIKE_WORKER_CONNECTIONS} fill its only worker, the rest wait in the queue until the pool grows.`,
    '',
    '| sample | first response from the new worker, ms | all answered, ms | grow event |',
    '|---:|---:|---:|---|',
    ...sp.samples.map((s, i) => `| ${i + 1} | ${f(s.toNewWorkerMs)} | ${f(s.allServedMs)} | ${s.growEvent} |`),
    '',
    `Median ${f(sp.medianMs)} ms, max ${f(sp.maxMs)} ms (target ≤ ${TARGETS.spikeToServeMs} ms: ${verdict(sp.medianMs <= TARGETS.spikeToServeMs)}).`,
  ];
}

function throughputLines(r: BenchResults): string[] {
  const o = r.options;
  const t = r.throughput!;
  const out: string[] = [];
  out.push(`## Throughput — medians of ${o.rounds} rounds, ${o.duration} s each, ${o.connections} connections${r.generator === 'wrk' ? `, ${o.threads} wrk threads` : ''}`, '');
  out.push(`| workload | server | req/s | vs ${BASELINE} | p50 ms | p99 ms | server CPU µs/req | CPU/req vs ${BASELINE} | RSS idle MB | RSS load MB | RSS load − ${BASELINE} MB | errors | non-2xx |`);
  out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of t.summary) {
    out.push(`| ${s.workload} | ${s.server} | ${f(s.rps)} | ${x(s.rpsRatio)} | ${f(s.p50Ms, 2)} | ${f(s.p99Ms, 2)} | ${f(s.cpuUsPerRequest, 1)} | ${x(s.cpuRatio)} | ${mb(s.rssIdleBytes)} | ${mb(s.rssLoadBytes)} | ${mb(s.rssLoadVsBaselineBytes, true)} | ${s.errors} | ${s.non2xx} |`);
  }
  for (const s of t.skipped) out.push('', `Skipped ${s.workload}: ${s.reason}.`);
  out.push('', `Every contender runs 2 workers (single process: one). ${BASELINE} is the round-robin baseline (\`cluster.SCHED_RR\`), SCHED_NONE lets its workers accept on the shared socket. "CPU/req vs ${BASELINE}" is this server's CPU per request ÷ ${BASELINE}'s: below 1× is cheaper (all processes of each server summed). RSS: summed \`VmRSS\` of the whole process tree (shared pages count once per process), idle = after start, before any load; load = the highest sample (every 250 ms) during a run, median over the rounds.`);
  const logs = r.rocketStatusAfterThroughput?.['rocket-cluster +access log']?.logs;
  if (logs) out.push('', `rocket-cluster +access log wrote ${logs.written} log lines to ${logs.file ?? 'stdout'} (${logs.dropped} dropped).`);
  return out;
}

function balanceLines(r: BenchResults): string[] {
  const ms = r.balance!.measurements;
  const out = [`## Balance — 4 workers, \`Connection: close\`, ${r.options.rounds} round(s) of ${r.options.duration} s`, ''];
  out.push('| server | round | requests served | share per worker | busiest worker |', '|---|---:|---:|---|---:|');
  for (const m of ms) {
    const shares = Object.values(m.served).map((n) => pct(n / m.total)).join(' / ');
    out.push(`| ${m.server} | ${m.round} | ${m.total} | ${shares} | ${pct(m.maxShare)}${m.note ? ' (workers changed)' : ''} |`);
  }
  out.push('', 'Requests each worker served during the run: rocket-cluster from `/status` `workers[].served`, node:cluster from its workers\' own counters (SIGUSR2).');
  return out;
}

function targetLines(targets: readonly TargetCheck[], bytesPerSocket: number | undefined, title = 'Targets'): string[] {
  const lines = [`${title} (median over rounds, min–max in parentheses; ratios paired within a round):`];
  for (const t of targets) {
    const v = (n: number | null): string => (n === null ? '—' : t.unit === '×' ? n.toFixed(2) : t.unit === '%' ? (n * 100).toFixed(1) : (n / 2 ** 20).toFixed(1));
    const limit = `${t.op} ${v(t.limit)}${t.unit === '×' ? '×' : ` ${t.unit}`}`;
    const measured = t.median === null ? 'not measured' : `${v(t.median)}${t.unit === '×' ? '×' : ` ${t.unit}`}${t.values.length > 1 ? ` (${v(t.min)}–${v(t.max)})` : ''}`;
    const verdictText = t.met === null ? 'not measured' : verdict(t.met);
    lines.push(`- ${t.target} ${limit}: ${measured} — ${verdictText}${t.note ? ` (${t.note})` : ''}`);
  }
  if (bytesPerSocket !== undefined) lines.push(`- parked socket ≤ ${TARGETS.parkedSocketBytes} B: ${f(bytesPerSocket)} B — ${verdict(bytesPerSocket <= TARGETS.parkedSocketBytes)}`);
  return lines;
}
