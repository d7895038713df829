// The static part (`--only static`): rocket-cluster --static against
// serve-static on node:cluster (round-robin, 2 workers) and, when installed,
// nginx (2 worker processes), all serving one temporary directory: a 1 KB, a
// 1 MB and a 4 MB file, keep-alive, --connections connections, --duration seconds per
// run, --rounds rounds that alternate the contenders. Issue 14's target:
// rocket-cluster ≥ 1.0× serve-static on node:cluster (requests per second).
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Generator, LoadResult } from './load/types.js';
import type { BenchOptions } from './options.js';
import { cpuMs } from './procfs.js';
import { sampleRss } from './rss-sampler.js';
import { startNodeCluster, startRocket, startScript, type Server, type ServerName } from './servers.js';
import { median } from './stats.js';
import type { Progress } from './throughput.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NGINX_PRESENT = existsSync('/usr/sbin/nginx');
const SETTLE_MS = 500;
export const STATIC_BASELINE: ServerName = 'serve-static on node:cluster';
export const STATIC_TARGET = 1.0;

/** The files requested: name and size. */
export const STATIC_FILES = [
  { name: 'small.txt', label: '1 KB', bytes: 1024, target: true },
  { name: 'large.bin', label: '1 MB', bytes: 1024 * 1024, target: true },
  // Not in the target: larger than one read (--static-read-size, 1 MB), so it streams in chunks.
  { name: 'larger.bin', label: '4 MB', bytes: 4 * 1024 * 1024, target: false },
] as const;

export interface StaticMeasurement {
  readonly server: ServerName;
  readonly file: string;
  readonly round: number;
  readonly load: LoadResult;
  readonly serverCpuUsPerRequest: number;
  /** Highest RSS of the whole process tree during the run, bytes: what reading files in larger chunks costs. */
  readonly peakTreeRss: number;
}

export interface StaticResult {
  readonly measurements: StaticMeasurement[];
  readonly notes: string[];
  /** The 1-minute load average before and after the part (the machine is shared). */
  readonly loadAverage: { readonly before: number; readonly after: number };
}

/** Writes the files into a fresh world-readable directory (nginx's workers run as www-data under root). */
function makeDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rocket-bench-static-'));
  chmodSync(dir, 0o755);
  for (const f of STATIC_FILES) {
    const data = Buffer.alloc(f.bytes);
    for (let i = 0; i < data.length; i++) data[i] = 97 + (i % 26);
    writeFileSync(path.join(dir, f.name), data, { mode: 0o644 });
  }
  return dir;
}

export async function measureStatic(gen: Generator, o: BenchOptions, progress: Progress): Promise<StaticResult> {
  const dir = makeDir();
  const notes: string[] = [];
  const servers: Server[] = [];
  const before = os.loadavg()[0] ?? 0;
  try {
    process.env.BENCH_STATIC_DIR = dir; // read by the serve-static app in node:cluster's workers
    servers.push(await startRocket({ name: 'rocket-cluster --static', app: null, admin: false, extraArgs: ['--static', dir] }));
    servers.push(await startNodeCluster({ name: STATIC_BASELINE, app: path.join(HERE, 'apps/serve-static-app.js') }));
    if (NGINX_PRESENT) servers.push(await startScript('nginx', 'nginx', [path.join(HERE, 'nginx-static.js'), dir]));
    else notes.push('nginx not measured: /usr/sbin/nginx is not installed');
    for (const s of servers) progress(`${s.name} listening on ${s.url} (pid ${s.process.pid})`);
    const measurements: StaticMeasurement[] = [];
    for (const f of STATIC_FILES) {
      const spec = (s: Server, durationS: number) => ({ url: `${s.url}${f.name}`, durationS, connections: o.connections, threads: o.threads, close: false });
      if (o.warmup > 0) for (const s of servers) await gen.run(spec(s, o.warmup));
      for (let round = 1; round <= o.rounds; round++) {
        for (const s of servers) {
          const pids = s.process.tree();
          const cpuBefore = pids.reduce((sum, p) => sum + (cpuMs(p) ?? 0), 0);
          const rss = sampleRss(pids, []);
          const load = await gen.run(spec(s, o.duration));
          const peakTreeRss = rss.stop().tree;
          const cpu = pids.reduce((sum, p) => sum + (cpuMs(p) ?? 0), 0) - cpuBefore;
          const m = { server: s.name, file: f.label, round, load, serverCpuUsPerRequest: load.requests > 0 ? (cpu * 1000) / load.requests : Number.NaN, peakTreeRss };
          measurements.push(m);
          progress(`static ${f.label} round ${round} ${s.name}: ${Math.round(load.rps)} req/s, ${m.serverCpuUsPerRequest.toFixed(1)} us CPU/req, peak RSS ${mb(peakTreeRss)} MB, errors ${load.errors}, non-2xx ${load.non2xx}`);
          await sleep(SETTLE_MS);
        }
      }
    }
    return { measurements, notes, loadAverage: { before, after: os.loadavg()[0] ?? 0 } };
  } finally {
    await Promise.all(servers.map((s) => s.process.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

const mb = (bytes: number): string => (bytes / 1048576).toFixed(0);
const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '—');
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '—');

/** The part as markdown: req/s and CPU per request (median, min–max over rounds), and ratios to serve-static per round. */
export function staticLines(r: StaticResult, o: { duration: number; rounds: number; connections: number }, generator: string): string[] {
  const out = [
    `## Static files — ${r.measurements.length > 0 ? o.rounds : 0} round(s) × ${o.duration} s, ${generator}, ${o.connections} keep-alive connections, 2 workers each (load average ${f1(r.loadAverage.before)} → ${f1(r.loadAverage.after)})`,
    '',
    '| file | server | req/s median (min–max) | ×serve-static median (min–max, per round) | CPU µs/req median | peak RSS MB, whole tree, median (max) | errors, non-2xx |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const file of STATIC_FILES.map((x) => x.label)) {
    const ofFile = r.measurements.filter((m) => m.file === file);
    for (const server of [...new Set(ofFile.map((m) => m.server))]) {
      const runs = ofFile.filter((m) => m.server === server);
      const rps = runs.map((m) => m.load.rps);
      const ratios = runs.map((m) => m.load.rps / (ofFile.find((b) => b.server === STATIC_BASELINE && b.round === m.round)?.load.rps ?? Number.NaN));
      const bad = runs.reduce((n, m) => n + m.load.errors + m.load.non2xx, 0);
      const peaks = runs.map((m) => m.peakTreeRss);
      out.push(
        `| ${file} | ${server} | ${Math.round(median(rps))} (${Math.round(Math.min(...rps))}–${Math.round(Math.max(...rps))}) | ${f2(median(ratios))} (${f2(Math.min(...ratios))}–${f2(Math.max(...ratios))}) | ${f1(median(runs.map((m) => m.serverCpuUsPerRequest)))} | ${mb(median(peaks))} (${mb(Math.max(...peaks))}) | ${bad} |`,
      );
    }
  }
  out.push('');
  for (const { label: file, target } of STATIC_FILES) {
    const ofFile = r.measurements.filter((m) => m.file === file);
    const ratio = median(ofFile.filter((m) => m.server === 'rocket-cluster --static').map((m) => m.load.rps)) / median(ofFile.filter((m) => m.server === STATIC_BASELINE).map((m) => m.load.rps));
    const verdict = target ? ` — ${ratio >= STATIC_TARGET ? 'met' : 'missed'}` : ' (not a target)';
    out.push(`- ${file}: rocket-cluster --static ≥ ${STATIC_TARGET}× serve-static on node:cluster (medians): ${f2(ratio)}×${verdict}`);
  }
  for (const n of r.notes) out.push(`- ${n}`);
  return out;
}
