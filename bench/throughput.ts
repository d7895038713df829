import { setTimeout as sleep } from 'node:timers/promises';
import type { Generator, LoadResult } from './load/types.js';
import { UnsupportedWorkload } from './load/types.js';
import type { BenchOptions } from './options.js';
import { cpuMs } from './procfs.js';
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
}

export interface ThroughputResult {
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
          const load = await gen.run(spec(s.url, opts.duration));
          const serverCpuMs = sumCpu(pids) - cpuBefore;
          const m = { server: s.name, workload, round, load, serverCpuMs, serverCpuUsPerRequest: load.requests > 0 ? (serverCpuMs * 1000) / load.requests : Number.NaN };
          measurements.push(m);
          progress(`${workload} round ${round} ${s.name}: ${Math.round(load.rps)} req/s, ${m.serverCpuUsPerRequest.toFixed(1)} us CPU/req, errors ${load.errors}, non-2xx ${load.non2xx}`);
          await sleep(SETTLE_MS);
        }
      }
    } catch (e) {
      if (!(e instanceof UnsupportedWorkload)) throw e;
      skipped.push({ workload, reason: e.message });
      progress(`skipped ${workload}: ${e.message}`);
    }
  }
  return { measurements, skipped };
}

// A process that exits between the two readings loses its share; the servers
// here do not restart workers during a healthy run, and a crash shows up as
// errors anyway.
function sumCpu(pids: readonly number[]): number {
  return pids.reduce((sum, p) => sum + (cpuMs(p) ?? 0), 0);
}
