import type { LoadResult, LoadSpec } from './types.js';
import { runTool } from './run-tool.js';

/** Runs wrk with its latency distribution and parses its text report. */
export async function runWrk(spec: LoadSpec): Promise<LoadResult> {
  const args = ['-t', String(spec.threads), '-c', String(spec.connections), '-d', `${spec.durationS}s`, '--latency'];
  // wrk sends HTTP/1.1 keep-alive by default; with this header each request
  // gets its own connection, and wrk reconnects when the server closes.
  if (spec.close) args.push('-H', 'Connection: close');
  const out = await runTool('wrk', [...args, spec.url], (spec.durationS + 15) * 1000);
  return parseWrk(out);
}

export function parseWrk(out: string): LoadResult {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m),/.exec(out);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!total || !rps) throw new Error(`cannot parse wrk output:\n${out}`);
  const pct = (p: string): number | null => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)$`, 'm').exec(out);
    return m ? toMs(Number(m[1]), m[2]!) : null;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return {
    generator: 'wrk',
    requests: Number(total[1]),
    durationS: toMs(Number(total[2]), total[3]!) / 1000,
    rps: Number(rps[1]),
    p50Ms: pct('50'),
    p99Ms: pct('99'),
    errors: sock ? sock.slice(1, 5).reduce((a, b) => a + Number(b), 0) : 0,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}

function toMs(value: number, unit: string): number {
  switch (unit) {
    case 'us':
      return value / 1000;
    case 'ms':
      return value;
    case 's':
      return value * 1000;
    default:
      return value * 60_000; // 'm'
  }
}
