// `npm run bench`: rocket-cluster (three ways) against node:cluster (RR and SCHED_NONE) and a single process,
// then the cost of parking, reloads under load, browser-like keep-alive clients with think time
// (think-time, overload), and static files (static). Not a test; see docs/BENCHMARKS.md.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { StatusReport } from '../src/shared/status-report.js';
import { getStatus, rocketStatus } from './admin-client.js';
import { measureBalance } from './balance.js';
import { stopAll } from './children.js';
import { pickGenerator } from './load/generator.js';
import { logFileProblems } from './log-file.js';
import { parseOptions, usage, type BenchOptions } from './options.js';
import { measureParkCost } from './park-cost.js';
import { measureParkLatency } from './park-latency.js';
import { measureParkMemory } from './park-memory.js';
import { findPm2Runtime, startPm2 } from './pm2-server.js';
import { print, progress, renderMarkdown, writeJson } from './report.js';
import { REBALANCE_CONNECTIONS, measureRebalance } from './rebalance.js';
import { measureReloads } from './reload.js';
import { measureSpike, spikeServerArgs, summarizeSpikes, type SpikeNotMeasured, type SpikeResult, type SpikeSample } from './spike.js';
import type { BenchResults } from './results.js';
import { BALANCE_CONTENDERS, BIN, LISTEN_THINK_APP, ROOT, startNodeCluster, startRocket, THINK_CONTENDERS, THROUGHPUT_CONTENDERS, type Server } from './servers.js';
import { summarize, summarizeReloads } from './summary.js';
import { evaluateTargets, evaluateThinkTimeTargets } from './targets.js';
import { measureThink, type ThinkContender, type ThinkPart } from './think-time.js';
import { measureStatic } from './static-files.js';
import { measureThroughput } from './throughput.js';

const opts = parseOptions(process.argv.slice(2), process.env);
if (opts === null) {
  print(usage());
} else {
  process.exitCode = await run(opts);
}

async function run(o: BenchOptions): Promise<number> {
  const gen = pickGenerator(o.generator);
  const cpus = os.cpus();
  const results: BenchResults = {
    date: new Date().toISOString(),
    node: process.version,
    machine: { cpus: os.availableParallelism(), cpuModel: cpus[0]?.model.trim() ?? 'unknown', os: `${os.type()} ${os.release()}` },
    generator: gen.name,
    options: { ...o, only: [...o.only] },
    failures: [],
    serverProblems: [],
  };
  // Ctrl-C must not leave servers behind: stop them by pid, then exit.
  const onSignal = (sig: NodeJS.Signals): void => {
    progress(`${sig}: stopping servers`);
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  progress(`load generator: ${gen.name}; results go to ${o.out}`);
  try {
    if (o.only.has('throughput')) await throughputPart(o, gen, results);
    if (o.only.has('park-latency') || o.only.has('park-memory')) await parkPart(o, results);
    if (o.only.has('park-cost')) await parkCostPart(o, results);
    if (o.only.has('reload')) await reloadPart(o, gen, results);
    if (o.only.has('rebalance')) await rebalancePart(o, gen, results);
    for (const part of ['think-time', 'overload'] as const) if (o.only.has(part)) await thinkPart(part, o, results);
    if (o.only.has('static')) await staticPart(o, gen, results);
    if (results.thinkTime || results.overload) results.thinkTimeTargets = evaluateThinkTimeTargets({ thinkTime: results.thinkTime?.measurements, overload: results.overload?.measurements });
  } finally {
    await stopAll();
  }
  print(renderMarkdown(results));
  const out = path.resolve(ROOT, o.out);
  writeJson(out, results);
  progress(`raw results: ${out}`);
  return results.failures.length > 0 ? 1 : 0;
}

async function throughputPart(o: BenchOptions, gen: ReturnType<typeof pickGenerator>, results: BenchResults): Promise<void> {
  const servers = await startAll(THROUGHPUT_CONTENDERS, results, 'throughput');
  if (servers === null) return;
  try {
    const t = await measureThroughput(servers, gen, o, progress);
    results.throughput = { ...t, summary: summarize(t.measurements, t.idleRss) };
    const rockets = servers.filter((s) => s.kind === 'rocket-cluster');
    results.rocketStatusAfterThroughput = Object.fromEntries(await Promise.all(rockets.map(async (s) => [s.name, await rocketStatus(s)] as const)));
  } catch (e) {
    fail(results, 'throughput', e);
  } finally {
    await collectProblems(servers, results);
    await Promise.all(servers.map((s) => s.process.stop()));
  }
  const balanced = await startAll(BALANCE_CONTENDERS, results, 'balance');
  if (balanced !== null) {
    try {
      results.balance = await measureBalance(balanced, gen, o, progress);
    } catch (e) {
      fail(results, 'balance', e);
    } finally {
      await collectProblems(balanced, results, ' (balance)');
      await Promise.all(balanced.map((s) => s.process.stop()));
    }
  }
  const t = results.throughput;
  if (t) results.targets = evaluateTargets({ measurements: t.measurements, idleRss: t.idleRss, balance: results.balance?.measurements ?? [] });
}

async function parkCostPart(o: BenchOptions, results: BenchResults): Promise<void> {
  progress(`park cost: ${o.parkCycles} park -> wake cycles, against as many requests that stay in their worker`);
  try {
    results.parkCost = await measureParkCost(o.parkCycles, progress);
  } catch (e) {
    fail(results, 'park cost', e);
  }
}

async function rebalancePart(o: BenchOptions, gen: ReturnType<typeof pickGenerator>, results: BenchResults): Promise<void> {
  progress(`rebalance: ${o.rebalanceRounds} round(s) x ${o.rebalanceDuration} s, ${REBALANCE_CONNECTIONS} busy keep-alive connections, --min-workers 1 --max-workers 2`);
  try {
    results.rebalance = await measureRebalance(gen, { rounds: o.rebalanceRounds, durationS: o.rebalanceDuration, connections: REBALANCE_CONNECTIONS, threads: o.threads }, progress);
  } catch (e) {
    fail(results, 'rebalance', e);
  }
}

/** Starts the contenders one after the other; on a failure stops those already started and returns null. */
async function startAll(starts: readonly (() => Promise<Server>)[], results: BenchResults, part: string): Promise<Server[] | null> {
  const servers: Server[] = [];
  try {
    for (const start of starts) {
      const s = await start();
      servers.push(s);
      progress(`${s.name} listening on ${s.url} (pid ${s.process.pid})`);
    }
    return servers;
  } catch (e) {
    fail(results, part, e);
    await collectProblems(servers, results);
    await Promise.all(servers.map((s) => s.process.stop()));
    return null;
  }
}

async function parkPart(o: BenchOptions, results: BenchResults): Promise<void> {
  let server: Server | undefined;
  try {
    // Parks quickly (but not between a response and the next hot request),
    // and keeps parked sockets far longer than the measurement takes.
    server = await startRocket({ extraArgs: ['--park-when', 'idle', '--park-after', '500', '--keep-alive-timeout', '600000', '--max-parked', String(o.parkSockets + 1000)] });
    progress(`rocket-cluster for park measurements on ${server.url}`);
    if (o.only.has('park-latency')) {
      progress(`park latency: ${o.parkSamples} samples`);
      try {
        results.parkLatency = await measureParkLatency(server, o.parkSamples);
      } catch (e) {
        fail(results, 'park latency', e);
      }
    }
    if (o.only.has('park-memory')) {
      progress(`park memory: ${o.parkSockets} sockets`);
      try {
        results.parkMemory = await measureParkMemory(server, o.parkSockets);
      } catch (e) {
        fail(results, 'park memory', e);
      }
    }
    const st: StatusReport = await getStatus(server.adminUrl!);
    progress(`park server status: parked ${JSON.stringify(st.parked)}, connections ${JSON.stringify(st.connections)}, restarts ${st.restarts}`);
  } catch (e) {
    fail(results, 'park measurements', e);
  } finally {
    if (server) {
      await collectProblems([server], results, ' (park measurements)');
      await server.process.stop();
    }
  }
}

async function reloadPart(o: BenchOptions, gen: ReturnType<typeof pickGenerator>, results: BenchResults): Promise<void> {
  const servers: Server[] = [];
  try {
    // Default settings (park after 1 s idle, 5 s keep-alive): what a user gets.
    for (const start of [() => startRocket(), () => startNodeCluster()]) {
      const s = await start();
      servers.push(s);
      progress(`${s.name} for reloads on ${s.url} (SIGHUP to pid ${s.masterPid})`);
    }
    progress(`reloads: ${o.reloadRounds} round(s) x ${servers.length} servers x ${o.reloadDuration} s, ${o.reloads} reloads each, ${o.connections} connections`);
    const measurements = await measureReloads(servers, gen, o, progress);
    results.reload = { measurements, summary: summarizeReloads(measurements) };
  } catch (e) {
    fail(results, 'reload', e);
  } finally {
    await collectProblems(servers, results, ' (reloads)');
    await Promise.all(servers.map((s) => s.process.stop()));
  }
  try {
    results.spikeToServe = await spikePart(o, results);
  } catch (e) {
    fail(results, 'queue spike', e);
  }
}

/**
 * The "queue spike -> new worker serving" needs a pool that grows
 * (--min-workers < --max-workers): measured when rocket-cluster has the flags.
 */
async function spikePart(o: BenchOptions, results: BenchResults): Promise<SpikeResult | SpikeNotMeasured> {
  const help = spawnSync(process.execPath, [BIN, 'start', '--help'], { encoding: 'utf8', timeout: 10_000 });
  if (!/--min-workers/.test(help.stdout ?? '') || !/--max-workers/.test(help.stdout ?? '')) {
    return { measured: false, reason: 'waits for the dynamic pool: rocket-cluster has no --min-workers/--max-workers yet' };
  }
  const samples: SpikeSample[] = [];
  for (let i = 1; i <= o.spikeSamples; i++) {
    // A fresh cluster each time: the pool must start at one worker.
    const server = await startRocket({ extraArgs: spikeServerArgs(), poolArgs: [] });
    try {
      const sm = await measureSpike(server);
      samples.push(sm);
      progress(`queue spike ${i}: ${sm.connections} connections, first response from a new worker after ${sm.toNewWorkerMs.toFixed(0)} ms, all served after ${sm.allServedMs.toFixed(0)} ms (${sm.growEvent})`);
    } finally {
      await collectProblems([server], results, ' (queue spike)');
      await server.process.stop();
    }
  }
  return summarizeSpikes(samples);
}

/** The think-time or overload part: each contender alone on the machine during its runs (see think-time.ts). */
async function thinkPart(part: ThinkPart, o: BenchOptions, results: BenchResults): Promise<void> {
  const contenders: ThinkContender[] = [...THINK_CONTENDERS];
  const notes: string[] = [];
  const pm2 = findPm2Runtime();
  if (pm2 === null) notes.push('PM2 cluster not measured: no `pm2` on PATH (it is not a dependency; `npm i -g pm2` to include it)');
  else contenders.push({ name: 'PM2 cluster', start: () => startPm2(pm2, LISTEN_THINK_APP, 2) });
  for (const n of notes) progress(n);
  const clients = part === 'think-time' ? o.thinkClients : o.overloadClients;
  progress(`${part}: ${o.thinkRounds} round(s) x ${contenders.length} contenders x ${o.thinkDuration} s, ${clients} keep-alive clients with think time`);
  try {
    const r = await measureThink(part, contenders, { clients, durationS: o.thinkDuration, rounds: o.thinkRounds }, progress, (s) => collectProblems([s], results, ` (${part})`), notes);
    if (part === 'think-time') results.thinkTime = r;
    else results.overload = r;
  } catch (e) {
    fail(results, part, e);
  }
}

async function staticPart(o: BenchOptions, gen: ReturnType<typeof pickGenerator>, results: BenchResults): Promise<void> {
  progress(`static: ${o.rounds} round(s) x 2 files x ${o.duration} s, rocket-cluster --static, serve-static on node:cluster, nginx if installed`);
  try {
    results.static = await measureStatic(gen, o, progress);
  } catch (e) {
    fail(results, 'static', e);
  }
}

function fail(results: BenchResults, part: string, e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  results.failures.push({ part, message });
  progress(`${part} failed: ${message}`);
}

/** Warn-or-worse lines and stray output of each server; for one with --log-dir, from its log files (read before it stops and they are removed). */
async function collectProblems(servers: readonly Server[], results: BenchResults, suffix = ''): Promise<void> {
  for (const s of servers) {
    const fromFiles = s.logDir === undefined ? [] : await logFileProblems(s.logDir);
    const lines = [...s.process.problems, ...fromFiles, ...s.process.otherOutput];
    if (lines.length > 0) results.serverProblems.push({ server: s.name + suffix, lines });
  }
}
