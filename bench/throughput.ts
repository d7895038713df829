import { setTimeout as sleep } from 'node:timers/promises';
import type { Generator, LoadResult } from './load/types.js';
import { UnsupportedWorkload } from './load/types.js';
import type { BenchOptions } from './options.js';
import { cpuMs, rssBytes, treeUssBytes, treeRssBytes } from './procfs.js';
import { mean, sampleRss, workerPids } from './rss-sampler.js';
import type { Server, ServerName } from './servers.js';

export type Workload = 'keep-alive' | 'close';
export const WORKLOADS: readonly Workload[] = ['keep-alive', 'close'];

export interface Measurement {
  readonly server: ServerName;
  readonly workload: Workload;
  readonly round: number;
  readonly load: LoadResult;
  /** CPU of the server's whole process tree (master, workers, monitor) during the run. */
  readonly serverCpuMs: number;
  /** The steadier number on a machine where server and client share 2 cores. */
  readonly serverCpuUsPerRequest: number;
  /** Highest summed RSS of the server's process tree seen during the run (sampled every RSS_SAMPLE_MS and at its end). */
  readonly rssPeakBytes: number;
  /** The workers' highest RSS during the run, averaged over the workers; null for a single process. */
  readonly workerRssPeakBytes: number | null;
}

/** Summed RSS of a contender's process tree after start, before any load. */
export interface IdleRss {
  readonly server: ServerName;
  readonly bytes: number;
  /** The same processes' USS: only the pages each maps alone (not the node binary's shared text). */
  readonly ussBytes: number;
  readonly processes: number;
  /** One worker's RSS, averaged over the workers; null for a single process. */
  readonly workerBytes: number | null;
}

export interface ThroughputResult {
  readonly idleRss: IdleRss[];
  readonly measurements: Measurement[];
  readonly skipped: { readonly workload: Workload; readonly reason: string }[];
}

/** Lets the caller print progress without this module writing anywhere. */
export type Progress = (text: string) => void;

// Lets the kernel finish closing the last run's connections (and a
// rocket-cluster its bookkeeping) before the next server is loaded.
const SETTLE_MS = 500;

/**
 * Alternates servers within each round (A B C A B C ...) so that drift in the
 * machine's load spreads over all of them instead of biasing one.
 */
export async function measureThroughput(servers: readonly Server[], gen: Generator, opts: BenchOptions, progress: Progress): Promise<ThroughputResult> {
  const measurements: Measurement[] = [];
  const skipped: ThroughputResult['skipped'] = [];
  await sleep(SETTLE_MS * 2);
  const idleRss = servers.map((s) => {
    const pids = s.process.tree();
    const workers = workerPids(s, pids).map((p) => rssBytes(p) ?? 0);
    return { server: s.name, bytes: treeRssBytes(pids), ussBytes: treeUssBytes(pids), processes: pids.length, workerBytes: mean(workers) };
  });
  for (const r of idleRss) progress(`idle RSS ${r.server}: ${(r.bytes / 2 ** 20).toFixed(1)} MB (USS ${(r.ussBytes / 2 ** 20).toFixed(1)} MB) in ${r.processes} processes`);
  for (const workload of WORKLOADS) {
    const spec = (url: string, durationS: number) => ({ url, durationS, connections: opts.connections, threads: opts.threads, close: workload === 'close' });
    try {
      if (opts.warmup > 0) {
        for (const s of servers) {
          progress(`warm-up ${workload} ${s.name}`);
          await gen.run(spec(s.url, opts.warmup));
          await sleep(SETTLE_MS);
        }
      }
      for (let round = 1; round <= opts.rounds; round++) {
        for (const s of servers) {
          const pids = s.process.tree();
          const cpuBefore = sumCpu(pids);
          const rss = sampleRss(pids, workerPids(s, pids));
          const load = await gen.run(spec(s.url, opts.duration)).finally(() => rss.stop());
          const serverCpuMs = sumCpu(pids) - cpuBefore;
          const perRequest = load.requests > 0 ? (serverCpuMs * 1000) / load.requests : Number.NaN;
          const peaks = rss.stop();
          const m: Measurement = { server: s.name, workload, round, load, serverCpuMs, serverCpuUsPerRequest: perRequest, rssPeakBytes: peaks.tree, workerRssPeakBytes: peaks.workerMean };
          measurements.push(m);
          progress(`${workload} round ${round} ${s.name}: ${Math.round(load.rps)} req/s, ${perRequest.toFixed(1)} us CPU/req, RSS ${(m.rssPeakBytes / 2 ** 20).toFixed(1)} MB, errors ${load.errors}, non-2xx ${load.non2xx}`);
          await sleep(SETTLE_MS);
        }
      }
    } catch (e) {
      if (!(e instanceof UnsupportedWorkload)) throw e;
      skipped.push({ workload, reason: e.message });
      progress(`skipped ${workload}: ${e.message}`);
    }
  }
  return { idleRss, measurements, skipped };
}

// A process that exits between the two readings loses its share; the servers
// here do not restart workers during a healthy run, and a crash shows up as
// errors anyway.
function sumCpu(pids: readonly number[]): number {
  return pids.reduce((sum, p) => sum + (cpuMs(p) ?? 0), 0);
}
