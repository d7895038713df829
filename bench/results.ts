import type { StatusReport } from '../src/shared/status-report.js';
import type { BalanceResult } from './balance.js';
import type { LogLine } from './children.js';
import type { BenchOptions } from './options.js';
import type { ParkCostResult } from './park-cost.js';
import type { ParkLatencyResult } from './park-latency.js';
import type { ParkMemoryResult } from './park-memory.js';
import type { RebalanceSample } from './rebalance.js';
import type { ReloadResult } from './reload.js';
import type { ServerName } from './servers.js';
import type { StaticResult } from './static-files.js';
import type { SpikeNotMeasured, SpikeResult } from './spike.js';
import type { ReloadSummaryRow, SummaryRow } from './summary.js';
import type { TargetCheck } from './targets.js';
import type { ThinkResult } from './think-time.js';
import type { ThroughputResult } from './throughput.js';

/** Everything one run measured; written verbatim to .bench/results.json. */
export interface BenchResults {
  readonly date: string;
  readonly node: string;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly os: string };
  readonly generator: string;
  readonly options: Omit<BenchOptions, 'only'> & { readonly only: string[] };
  throughput?: ThroughputResult & { readonly summary: SummaryRow[] };
  /** Each rocket-cluster contender's /status after the throughput rounds: rejected, lost, restarts, accept counters, log lines written/dropped. */
  rocketStatusAfterThroughput?: Partial<Record<ServerName, StatusReport>>;
  /** Part of `throughput`: per-worker shares of `Connection: close` load with 4 workers. */
  balance?: BalanceResult;
  /** Issue 9's targets, from `throughput` and `balance`. */
  targets?: TargetCheck[];
  parkLatency?: ParkLatencyResult;
  parkMemory?: ParkMemoryResult;
  /** CPU and latency a park → wake cycle adds (issue 10: ≤ 150 µs, ≤ 1 ms at p99). */
  parkCost?: ParkCostResult;
  reload?: ReloadResult & { readonly summary: ReloadSummaryRow[] };
  /** Part of `reload`: queue spike -> first response from a new worker, or why it was not measured. */
  spikeToServe?: SpikeResult | SpikeNotMeasured;
  /** A 1..2 pool under busy keep-alive load: growth on saturation, connections moved to the new worker. */
  rebalance?: RebalanceSample[];
  /** Browser-like keep-alive clients with think time, as many as 2 workers can serve. */
  thinkTime?: ThinkResult;
  /** The same clients, more than 2 workers can serve. */
  overload?: ThinkResult;
  /** The think-time and overload parts' targets. */
  thinkTimeTargets?: TargetCheck[];
  /** rocket-cluster --static against serve-static on node:cluster and nginx (issue 14). */
  static?: StaticResult;
  /** A part that failed; the others still ran. */
  readonly failures: { part: string; message: string }[];
  /** Warn-or-worse log lines and stray output of each server, as evidence. */
  readonly serverProblems: { server: string; lines: (LogLine | string)[] }[];
}
