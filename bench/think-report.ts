import { CLIENT_TIMEOUT_MS } from './load/think-client.js';
import { THINK_BALANCING_ARGS } from './servers.js';
import { median } from './stats.js';
import { BASELINE } from './summary.js';
import type { Spread } from './think-summary.js';
import { SLOW_SHARE, THINK_MAX_MS, THINK_MIN_MS, type ThinkResult } from './think-time.js';
import { SLOW_CPU_MS } from './apps/think-app.js';

/** `median (min–max)`, the range only when the rounds differ. */
function sp(s: Spread, digits = 0, scale = 1): string {
  if (s.median === null) return '—';
  const v = (n: number): string => (n / scale).toFixed(digits);
  return s.min !== null && s.max !== null && v(s.min) !== v(s.max) ? `${v(s.median)} (${v(s.min)}–${v(s.max)})` : v(s.median);
}
const x = (v: number | null): string => (v === null ? '—' : `${v.toFixed(2)}×`);
const MB = 2 ** 20;

/** One think-time or overload part as markdown: a table of medians over the rounds, then what it means. */
export function thinkLines(t: ThinkResult): string[] {
  const out: string[] = [];
  out.push(`## ${t.part === 'think-time' ? 'Think time' : 'Overload'} — ${t.clients} keep-alive clients, medians of ${t.rounds} round(s) of ${t.durationS} s, min–max in parentheses`, '');
  out.push(`| server | served/s | vs ${BASELINE} | fast p50 ms | fast p90 ms | fast p99 ms | fast p99 vs ${BASELINE} | slow p50 ms | slow p99 ms | timeouts | errors | 503 | other non-2xx | server CPU µs/served | vs ${BASELINE} | workers' RSS MB | all processes' RSS MB |`);
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of t.summary) {
    out.push(
      `| ${s.server} | ${sp(s.rps)} | ${x(s.rpsRatio)} | ${sp(s.fastP50Ms, 1)} | ${sp(s.fastP90Ms, 1)} | ${sp(s.fastP99Ms, 1)} | ${x(s.fastP99Ratio)} | ${sp(s.slowP50Ms, 1)} | ${sp(s.slowP99Ms, 1)} | ` +
        `${sp(s.timeouts)} | ${sp(s.errors)} | ${sp(s.status503)} | ${sp(s.otherNon2xx)} | ${sp(s.cpuUsPerServed)} | ${x(s.cpuRatio)} | ${sp(s.workersRssPeakBytes, 1, MB)} | ${sp(s.rssPeakBytes, 1, MB)} |`,
    );
  }
  out.push(
    '',
    `Each client holds one keep-alive connection (the ${t.clients} connects ramp up over the first second), sends one request, reads the whole response, thinks ${THINK_MIN_MS / 1000}–${THINK_MAX_MS / 1000} s (uniform), and again; ` +
      `${SLOW_SHARE * 100}% of requests go to a path that burns ${SLOW_CPU_MS} ms of CPU, the rest to hello world. Latency runs from wanting to send to the last byte of the response, a reconnect included; only served (2xx) requests count in it. ` +
      `A request unanswered after ${CLIENT_TIMEOUT_MS / 1000} s is a timeout: its connection is dropped and reopened after the next think. A connection the server closes (a 503 with \`Connection: close\`) is reopened the same way. ` +
      `Each contender runs 2 workers, alone on the machine: started for its run, stopped after it. "rocket-cluster, per-request balancing" adds \`${THINK_BALANCING_ARGS.join(' ')}\`. ` +
      `Server CPU: all processes of the server summed, per served request; RSS: the highest summed \`VmRSS\` sampled every 250 ms. The client runs in the bench's own process on the same cores.`,
  );
  const clientCpu = median(t.measurements.map((m) => m.load.clientCpuMs / 1000 / m.load.durationS));
  if (Number.isFinite(clientCpu)) out.push('', `The client used ${(clientCpu * 100).toFixed(0)}% of one core (median over the runs).`);
  const unfinished = t.measurements.reduce((a, m) => a + m.load.unfinished, 0);
  if (unfinished > 0) out.push('', `${unfinished} request(s) were still unanswered when their run ended (all rounds, all contenders); they count nowhere.`);
  const kinds = new Map<string, number>();
  for (const m of t.measurements) for (const [k, n] of Object.entries(m.load.errorsByKind)) kinds.set(`${m.server}: ${k}`, (kinds.get(`${m.server}: ${k}`) ?? 0) + n);
  if (kinds.size > 0) out.push('', `Errors over all rounds: ${[...kinds].map(([k, n]) => `${k} ${n}`).join('; ')}.`);
  for (const name of new Set(t.measurements.filter((m) => m.rocket).map((m) => m.server))) {
    const rs = t.measurements.filter((m) => m.server === name && m.rocket).map((m) => m.rocket!);
    const med = (f: (r: (typeof rs)[number]) => number): number => median(rs.map(f));
    out.push('', `${name} per run (median): ${med((r) => r.parks)} parks, ${med((r) => r.wakes)} wakes, ${med((r) => r.rejected)} connections rejected (503), ${med((r) => r.parkedLost)} parked lost, ${med((r) => r.restarts)} restarts.`);
  }
  for (const n of t.notes) out.push('', `${n}.`);
  return out;
}
