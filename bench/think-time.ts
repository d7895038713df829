import { setTimeout as sleep } from 'node:timers/promises';
import { rocketStatus } from './admin-client.js';
import { FAST_PATH, SLOW_PATH } from './apps/think-app.js';
import { runThinkClients } from './load/think-client.js';
import { cpuMs, openFileLimit } from './procfs.js';
import { sampleRss, workerPids } from './rss-sampler.js';
import type { Server, ServerName } from './servers.js';
import type { Progress } from './throughput.js';
import { summarizeThink, type RocketCounters, type ThinkMeasurement, type ThinkSummaryRow } from './think-summary.js';

/**
 * The workload rocket-cluster is designed for: browser-like clients on
 * keep-alive connections that are idle most of the time (think time), a few
 * requests that cost real CPU. `think-time` has as many clients as 2 workers
 * can serve; `overload` more than they can, to see who serves what.
 */
export type ThinkPart = 'think-time' | 'overload';

export interface ThinkContender {
  readonly name: ServerName;
  readonly start: () => Promise<Server>;
}


export interface ThinkResult {
  readonly part: ThinkPart;
  readonly clients: number;
  readonly durationS: number;
  readonly rounds: number;
  readonly contenders: readonly ServerName[];
  /** Contenders not measured (PM2 not installed) and why. */
  readonly notes: readonly string[];
  readonly measurements: ThinkMeasurement[];
  readonly summary: ThinkSummaryRow[];
}

export interface ThinkSettings {
  readonly clients: number;
  readonly durationS: number;
  readonly rounds: number;
}

/** Client behaviour: 5% of requests to the 20 ms CPU path, 0.2-1.5 s of think time between a response and the next request. */
export const SLOW_SHARE = 0.05;
export const THINK_MIN_MS = 200;
export const THINK_MAX_MS = 1500;
// Each run starts its contender fresh and stops it after: let the kernel
// finish closing the last run's sockets first.
const SETTLE_MS = 500;
// Descriptors the client process needs besides its sockets.
const SPARE_FDS = 256;

/**
 * Rounds alternate the contenders (A B C A B C) as the throughput part does,
 * but only one contender runs at a time: each is started for its run and
 * stopped after it, so nothing else of the bench holds memory or CPU while
 * one is measured. `afterRun` sees each server before it stops (its logs).
 */
export async function measureThink(
  part: ThinkPart,
  contenders: readonly ThinkContender[],
  settings: ThinkSettings,
  progress: Progress,
  afterRun: (s: Server) => Promise<void>,
  notes: readonly string[] = [],
): Promise<ThinkResult> {
  const limit = openFileLimit();
  if (settings.clients + SPARE_FDS > limit) throw new Error(`${settings.clients} clients need more descriptors than ulimit -n allows (${limit}); raise it or lower the clients`);
  const measurements: ThinkMeasurement[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    for (const c of contenders) {
      const m = await measureOne(c, round, settings, afterRun);
      measurements.push(m);
      const l = m.load;
      progress(
        `${part} round ${round} ${m.server}: ${Math.round(l.rps)} served/s, fast p50/p99 ${ms(l.fastMs.p50)}/${ms(l.fastMs.p99)} ms, slow p99 ${ms(l.slowMs.p99)} ms, ` +
          `timeouts ${l.timeouts}, errors ${l.errors}, 503 ${l.status503}, other non-2xx ${l.non2xx - l.status503}, server CPU ${(m.serverCpuMs / 1000).toFixed(1)} s, client CPU ${(l.clientCpuMs / 1000).toFixed(1)} s` +
          (m.rocket ? `, parks ${m.rocket.parks}, wakes ${m.rocket.wakes}, rejected ${m.rocket.rejected}` : ''),
      );
      await sleep(SETTLE_MS);
    }
  }
  return {
    part,
    clients: settings.clients,
    durationS: settings.durationS,
    rounds: settings.rounds,
    contenders: contenders.map((c) => c.name),
    notes,
    measurements,
    summary: summarizeThink(measurements),
  };
}

async function measureOne(c: ThinkContender, round: number, settings: ThinkSettings, afterRun: (s: Server) => Promise<void>): Promise<ThinkMeasurement> {
  const s = await c.start();
  try {
    await sleep(SETTLE_MS);
    const pids = s.process.tree();
    const workers = workerPids(s, pids);
    const cpuBefore = sumCpu(pids);
    const rss = sampleRss(pids, workers);
    const url = new URL(s.url);
    const load = await runThinkClients({
      host: url.hostname,
      port: Number(url.port),
      clients: settings.clients,
      durationS: settings.durationS,
      fastPath: FAST_PATH,
      slowPath: SLOW_PATH,
      slowShare: SLOW_SHARE,
      thinkMinMs: THINK_MIN_MS,
      thinkMaxMs: THINK_MAX_MS,
    }).finally(() => rss.stop());
    const serverCpuMs = sumCpu(pids) - cpuBefore;
    const peaks = rss.stop();
    const rocket = s.kind === 'rocket-cluster' ? await rocketCounters(s) : undefined;
    return {
      server: s.name,
      round,
      load,
      serverCpuMs,
      serverCpuUsPerServed: load.served > 0 ? (serverCpuMs * 1000) / load.served : Number.NaN,
      rssPeakBytes: peaks.tree,
      workersRssPeakBytes: peaks.workersSum,
      processes: pids.length,
      workers: workers.length,
      ...(rocket ? { rocket } : {}),
    };
  } finally {
    await afterRun(s);
    await s.process.stop();
  }
}

async function rocketCounters(s: Server): Promise<RocketCounters | undefined> {
  try {
    const st = await rocketStatus(s);
    return { parks: st.connections.parks, wakes: st.connections.wakes, rejected: st.queue.rejected, parkedLost: st.parked.lost, restarts: st.restarts };
  } catch {
    return undefined; // the numbers are extra; a run is not lost for them
  }
}

// A process that exits between the readings loses its share; a crash shows as errors anyway.
function sumCpu(pids: readonly number[]): number {
  return pids.reduce((sum, p) => sum + (cpuMs(p) ?? 0), 0);
}

const ms = (v: number | null): string => (v === null ? '—' : v.toFixed(1));
