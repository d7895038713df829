// Soak (issue 11 item 5): rocket-cluster under mixed keep-alive and
// `Connection: close` load for --minutes, with a rolling reload (SIGHUP) every
// --reload-every-s, each awaited before the next. Reports every failed
// request (target 0) and the RSS growth of the master and of the monitor, the
// two processes that live for the whole run (target under 10 MB each). Not a
// test, and not part of `npm run bench`; results go to .bench/soak.json and a
// markdown summary to stdout. Run `node dist-bench/bench/soak.js --help`.
//
// The load is paced, not flat out: about 150-250 requests/s on a 2-core
// machine, so that the run is about leaks and lost requests, not throughput.
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { StatusReport } from '../src/shared/status-report.js';
import { getStatus, waitForStatus } from './admin-client.js';
import { stopAll, type LogLine } from './children.js';
import { summarizeLatencies } from './load/latency.js';
import { failureKey, startMixedLoad, type ClientSpec, type RequestSample } from './mixed-load.js';
import { rssBytes } from './procfs.js';
import { print, progress } from './report.js';
import { ROOT, startRocket, type Server } from './servers.js';
import { renderSoak, rssFigures, verdictsOf, writeSoak, type ReloadRecord, type RssSample, type SoakOptions, type SoakResult } from './soak-report.js';
import { treeCpuMs } from './tree-cpu.js';

const HELP = `node dist-bench/bench/soak.js [options]   (build first: npm run build && npx tsc -p bench/tsconfig.json)
  --minutes N          minutes of load [30]
  --reload-every-s N   a SIGHUP reload every N s, each awaited before the next [30]
  --connections N      clients: half keep-alive (a third of those think 1-3 s between requests), half Connection: close [12]
  --gap-ms N           pause of the busy clients between requests, ±50% [40]
  --sample-s N         seconds between RSS samples [5]
  --warmup-s N         RSS growth is measured from the first sample after this warm-up (at most a quarter of the run) and after the first reload [60]
  --out FILE           JSON results [.bench/soak.json]
  --server-args "..."  extra rocket-cluster flags, space-separated (default: 2 workers, hello world, --admin)
  -h, --help`;

const REQUEST_TIMEOUT_MS = 10_000;
/** A new worker's start (15 s by default) plus a drain; a healthy reload took 1.3-4.5 s here on a busy 2-core machine. */
const RELOAD_TIMEOUT_MS = 60_000;
/** No reload starts this close to the end of the load, so that each one ends under load. */
const RELOAD_TAIL_MS = 5000;

function parse(argv: readonly string[]): SoakOptions | null {
  const { values: v } = parseArgs({
    args: [...argv],
    options: {
      minutes: { type: 'string', default: '30' },
      'reload-every-s': { type: 'string', default: '30' },
      connections: { type: 'string', default: '12' },
      'gap-ms': { type: 'string', default: '40' },
      'sample-s': { type: 'string', default: '5' },
      'warmup-s': { type: 'string', default: '60' },
      out: { type: 'string', default: '.bench/soak.json' },
      'server-args': { type: 'string', default: '' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (v.help === true) return null;
  const num = (name: keyof typeof v, min: number): number => {
    const n = Number(v[name]);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got ${JSON.stringify(v[name])}`);
    return n;
  };
  const minutes = num('minutes', 0.1);
  return {
    minutes,
    reloadEveryS: num('reload-every-s', 1),
    connections: Math.round(num('connections', 2)),
    gapMs: num('gap-ms', 0),
    sampleS: num('sample-s', 0.5),
    warmupS: Math.min(num('warmup-s', 0), (minutes * 60) / 4),
    out: path.resolve(ROOT, v.out!),
    serverArgs: v['server-args']!.split(' ').filter(Boolean),
  };
}

/** The clients: keep-alive ones (a third of them thinking 1-3 s, idle at most reloads) and Connection: close ones. */
function clientsFor(o: SoakOptions): ClientSpec[] {
  const busyGap = () => o.gapMs * (0.5 + Math.random());
  const keepAlive = Math.ceil(o.connections / 2);
  const thinking = Math.floor(keepAlive / 3);
  return [
    ...Array.from({ length: keepAlive - thinking }, () => ({ kind: 'keep-alive' as const, gapMs: busyGap })),
    // Under the 5 s keep-alive timeout: the server never closes them for idleness.
    ...Array.from({ length: thinking }, () => ({ kind: 'keep-alive' as const, gapMs: () => 1000 + 2000 * Math.random() })),
    ...Array.from({ length: o.connections - keepAlive }, () => ({ kind: 'close' as const, gapMs: busyGap })),
  ];
}

async function reloadOnce(s: Server, t0: number): Promise<ReloadRecord> {
  const outcomeOf = (l: LogLine): ReloadRecord['outcome'] | null => {
    const msg = l.role === 'master' && typeof l.msg === 'string' ? l.msg : '';
    if (msg === 'reload complete') return 'complete';
    if (msg.startsWith('reload aborted')) return 'aborted';
    if (msg.startsWith('reload refused')) return 'refused';
    return null;
  };
  // Listen before signalling: a line that arrives first would be missed.
  const ended = s.process.waitForLine((l) => outcomeOf(l) !== null, RELOAD_TIMEOUT_MS);
  const sent = performance.now();
  process.kill(s.masterPid, 'SIGHUP');
  const line = await ended.catch((e: Error) => ({ msg: `reload timed out: ${e.message}` }) as LogLine);
  const outcome = outcomeOf(line) ?? 'timed out';
  s.process.tree(); // remember the new workers for stop()
  return { atS: (sent - t0) / 1000, ms: Math.round(performance.now() - sent), outcome, ...(outcome === 'complete' ? {} : { message: String(line.msg) }) };
}

async function sampleOnce(s: Server, t0: number, lastMonitor: number | null): Promise<RssSample> {
  const status = await getStatus(s.adminUrl!).catch(() => null);
  const monitorPid = status?.monitor.pid ?? lastMonitor;
  return {
    atS: (performance.now() - t0) / 1000,
    masterRss: rssBytes(s.masterPid),
    monitorPid,
    monitorRss: monitorPid === null ? null : rssBytes(monitorPid),
    generation: status?.generation ?? null,
    parked: status?.parked.count ?? null,
  };
}

async function run(o: SoakOptions): Promise<SoakResult> {
  const loadavgBefore = os.loadavg();
  const server = await startRocket({ extraArgs: o.serverArgs });
  const ready = await waitForStatus(server.adminUrl!, 'the monitor to be ready', (st) => st.monitor.state === 'ready' && st.monitor.pid !== null, 20_000, 100);
  const startup = { master: rssBytes(server.masterPid), monitor: rssBytes(ready.monitor.pid!) };
  const clients = clientsFor(o);
  progress(`soak: master ${server.masterPid}, monitor ${ready.monitor.pid}, ${server.url}; ${o.minutes} min, ${clients.length} clients, reload every ${o.reloadEveryS} s`);

  const latencies: Record<RequestSample['kind'], number[]> = { 'keep-alive': [], close: [] };
  const failures: Record<string, number> = {};
  const failed: { atS: number; kind: string; why: string }[] = [];
  const t0 = performance.now();
  const endAt = t0 + o.minutes * 60_000;
  const cpu0 = { server: treeCpuMs(server.masterPid), client: process.cpuUsage() };
  const load = startMixedLoad({
    url: server.url,
    clients,
    timeoutMs: REQUEST_TIMEOUT_MS,
    onSample(r) {
      latencies[r.kind].push(r.ms);
      if (r.ok) return;
      const why = failureKey(r);
      failures[why] = (failures[why] ?? 0) + 1;
      if (failed.length < 200) failed.push({ atS: (r.at - t0) / 1000, kind: r.kind, why });
    },
  });

  const samples: RssSample[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const last = samples.at(-1);
      samples.push(await sampleOnce(server, t0, last?.monitorPid ?? ready.monitor.pid));
      const next = samples.length * o.sampleS * 1000 + t0;
      while (sampling && performance.now() < next) await sleep(Math.min(250, next - performance.now()));
    }
  })();

  const reloads: ReloadRecord[] = [];
  let cpu1: { server: number; client: NodeJS.CpuUsage };
  let loadS: number;
  try {
    for (let k = 1; t0 + k * o.reloadEveryS * 1000 < endAt - RELOAD_TAIL_MS; k++) {
      const at = t0 + k * o.reloadEveryS * 1000;
      if (performance.now() < at) await sleep(at - performance.now());
      if (performance.now() > endAt - RELOAD_TAIL_MS) break; // the previous reload ran long
      const r = await reloadOnce(server, t0);
      reloads.push(r);
      const failedSoFar = Object.values(failures).reduce((a, b) => a + b, 0);
      progress(`soak: reload ${reloads.length} at ${r.atS.toFixed(1)} s: ${r.outcome} in ${r.ms} ms${r.message ? ` (${r.message})` : ''}; failed so far ${failedSoFar}`);
    }
    if (performance.now() < endAt) await sleep(endAt - performance.now());
  } finally {
    // Also on an error (the master gone): the clients must not go on against a dead port.
    sampling = false;
    await sampler;
    samples.push(await sampleOnce(server, t0, samples.at(-1)?.monitorPid ?? null));
    cpu1 = { server: treeCpuMs(server.masterPid), client: process.cpuUsage(cpu0.client) };
    loadS = (performance.now() - t0) / 1000;
    await load.stop();
  }
  const statusEnd = await getStatus(server.adminUrl!);
  const problems = [...server.process.problems];
  await stopAll();

  const requests = latencies['keep-alive'].length + latencies.close.length;
  const result: Omit<SoakResult, 'verdicts'> = {
    date: new Date().toISOString(),
    node: process.version,
    machine: { cpus: os.availableParallelism(), loadavgBefore, loadavgAfter: os.loadavg() },
    options: o,
    clients: { keepAlive: clients.filter((c) => c.kind === 'keep-alive').length, thinking: Math.floor(Math.ceil(o.connections / 2) / 3), close: clients.filter((c) => c.kind === 'close').length },
    loadS,
    requests,
    rps: requests / loadS,
    latencyMs: { keepAlive: summarizeLatencies(latencies['keep-alive']), close: summarizeLatencies(latencies.close) },
    failed: Object.values(failures).reduce((a, b) => a + b, 0),
    failures,
    failedSamples: failed,
    reloads,
    rss: rssFigures(server.masterPid, samples, startup, o, reloads),
    cpu: { serverPctOfCore: (100 * (cpu1.server - cpu0.server)) / (loadS * 1000), clientPctOfCore: (100 * (cpu1.client.user + cpu1.client.system)) / 1000 / (loadS * 1000) },
    statusEnd: statusSummary(statusEnd),
    serverProblems: problems.slice(0, 50),
    samples,
  };
  return { ...result, verdicts: verdictsOf(result) };
}

function statusSummary(s: StatusReport): SoakResult['statusEnd'] {
  return {
    generation: s.generation,
    workers: s.workers.map((w) => `${w.state}`).join(' '),
    restarts: s.restarts,
    monitorRestarts: s.monitor.restarts,
    parkedLost: s.parked.lost,
    parkRefused: s.parked.refused,
    queueRejected: s.queue.rejected,
    queueTimedOut: s.queue.timedOut,
    parks: s.connections.parks,
    wakes: s.connections.wakes,
    moved: s.connections.moved,
    logsDropped: s.logs.dropped,
  };
}

const opts = parse(process.argv.slice(2));
if (opts === null) {
  print(`${HELP}\n`);
} else {
  // Ctrl-C must not leave servers behind: stop them by pid, then exit.
  const onSignal = (sig: NodeJS.Signals): void => {
    progress(`${sig}: stopping the cluster`);
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    const result = await run(opts);
    writeSoak(opts.out, result);
    print(renderSoak(result));
    progress(`raw results: ${opts.out}`);
    process.exitCode = result.verdicts.every((v) => v.ok) ? 0 : 1;
  } finally {
    await stopAll();
  }
}
