import { setTimeout as sleep } from 'node:timers/promises';
import { rocketStatus } from './admin-client.js';
import type { Generator, LoadResult } from './load/types.js';
import type { BenchOptions } from './options.js';
import type { Server, ServerName } from './servers.js';
import type { Progress } from './throughput.js';

/** How one 4-worker contender spread one round of `Connection: close` load over its workers. */
export interface BalanceMeasurement {
  readonly server: ServerName;
  readonly round: number;
  readonly load: LoadResult;
  /** Requests each worker (by pid) served during the run. */
  readonly served: Record<string, number>;
  /** Summed over the workers; compare with load.requests. */
  readonly total: number;
  /** The busiest worker's served / total (NaN when nothing was served). */
  readonly maxShare: number;
  /** Set when the workers after the run are not the ones before it (a restart): the shares are then suspect. */
  readonly note?: string;
}

export interface BalanceResult {
  readonly measurements: BalanceMeasurement[];
}

const SETTLE_MS = 500;
const COUNT_TIMEOUT_MS = 5000;

/**
 * For each round, each server in turn: read what every worker has served, run
 * `Connection: close` load for the round duration, wait for the counters to
 * settle (workers report theirs to rocket-cluster's master within 20 ms), and
 * read them again.
 */
export async function measureBalance(servers: readonly Server[], gen: Generator, opts: BenchOptions, progress: Progress): Promise<BalanceResult> {
  const measurements: BalanceMeasurement[] = [];
  const spec = (url: string, durationS: number) => ({ url, durationS, connections: opts.connections, threads: opts.threads, close: true });
  if (opts.warmup > 0) {
    for (const s of servers) {
      progress(`balance warm-up ${s.name}`);
      await gen.run(spec(s.url, opts.warmup));
      await sleep(SETTLE_MS);
    }
  }
  for (let round = 1; round <= opts.rounds; round++) {
    for (const s of servers) {
      const before = await servedByWorker(s);
      const load = await gen.run(spec(s.url, opts.duration));
      await sleep(SETTLE_MS);
      const after = await servedByWorker(s);
      const served = Object.fromEntries(Object.entries(after).map(([pid, n]) => [pid, n - (before[pid] ?? 0)]));
      const total = Object.values(served).reduce((a, n) => a + n, 0);
      const maxShare = total > 0 ? Math.max(...Object.values(served)) / total : Number.NaN;
      const same = Object.keys(before).sort().join() === Object.keys(after).sort().join();
      const m: BalanceMeasurement = { server: s.name, round, load, served, total, maxShare, ...(same ? {} : { note: `workers changed during the run: ${Object.keys(before).join(',')} -> ${Object.keys(after).join(',')}` }) };
      measurements.push(m);
      const shares = Object.values(served).map((n) => `${((n / total) * 100).toFixed(0)}%`);
      progress(`balance round ${round} ${s.name}: ${load.requests} requests, ${total} served by workers (${shares.join(' ')}), max share ${(maxShare * 100).toFixed(1)}%${m.note ? `; ${m.note}` : ''}`);
      await sleep(SETTLE_MS);
    }
  }
  return { measurements };
}

/** Requests served so far by each live worker, keyed by pid. */
async function servedByWorker(s: Server): Promise<Record<string, number>> {
  if (s.kind === 'rocket-cluster') {
    const st = await rocketStatus(s);
    return Object.fromEntries(st.workers.filter((w) => w.pid !== null && w.state === 'ready').map((w) => [String(w.pid), w.served]));
  }
  if (s.kind === 'node:cluster') {
    // cluster-server.ts started with `count`: SIGUSR2 -> one `served` line.
    const line = s.process.waitForLine((l) => l.msg === 'served', COUNT_TIMEOUT_MS);
    process.kill(s.masterPid, 'SIGUSR2');
    const workers = (await line).workers as Record<string, number | null>;
    const missing = Object.entries(workers).filter(([, n]) => typeof n !== 'number');
    if (missing.length > 0) throw new Error(`${s.name}: no request count from worker(s) ${missing.map(([pid]) => pid).join(', ')} (started without "count"?)`);
    return workers as Record<string, number>;
  }
  throw new Error(`${s.name}: has no per-worker request counts`);
}
