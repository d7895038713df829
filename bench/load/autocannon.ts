import { createRequire } from 'node:module';
import { UnsupportedWorkload, type LoadResult, type LoadSpec } from './types.js';
import { runTool } from './run-tool.js';

interface AutocannonJson {
  readonly duration: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly requests: { readonly total: number };
  readonly latency: { readonly p50: number; readonly p99: number; readonly totalCount: number };
}

/**
 * Runs autocannon's bin in its own process (so its CPU shows up like wrk's, not
 * inside the bench) with `--json`.
 *
 * It cannot produce the `Connection: close` workload: its request builder always
 * writes `Connection: keep-alive` (an extra `Connection: close` header makes a
 * contradictory pair), and its `reconnectRate` option tears the connection down
 * *before* recording the response, so with a rate of 1 it counts no request at
 * all. See docs/BENCHMARKS.md.
 */
export async function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  if (spec.close) throw new UnsupportedWorkload('autocannon cannot open one connection per request; install wrk');
  const bin = createRequire(import.meta.url).resolve('autocannon');
  const args = [bin, '--json', '-c', String(spec.connections), '-d', String(spec.durationS), spec.url];
  const out = await runTool(process.execPath, args, (spec.durationS + 15) * 1000);
  const j = JSON.parse(out) as AutocannonJson;
  const seen = j.latency.totalCount > 0;
  return {
    generator: 'autocannon',
    requests: j.requests.total,
    durationS: j.duration,
    rps: j.requests.total / j.duration,
    p50Ms: seen ? j.latency.p50 : null,
    p99Ms: seen ? j.latency.p99 : null,
    errors: j.errors + j.timeouts,
    non2xx: j.non2xx,
  };
}
