import { setTimeout as sleep } from 'node:timers/promises';
import type { StatusReport } from '../src/shared/status-report.js';
import { getStatus } from './admin-client.js';
import type { LogLine } from './children.js';
import type { Generator, LoadResult } from './load/types.js';
import type { BenchOptions } from './options.js';
import type { Server, ServerKind, ServerName } from './servers.js';
import type { Progress } from './throughput.js';

/** One SIGHUP and what the server said about it. */
export interface ReloadTiming {
  /** Seconds after the load started that the signal was sent. */
  readonly atS: number;
  /** From the signal to the server's line saying the reload ended. */
  readonly ms: number;
  readonly outcome: 'complete' | 'aborted' | 'refused';
  /** The server's message when not complete. */
  readonly message?: string;
  /** False when the reload ended after the load generator stopped: its failures may be missing. */
  readonly duringLoad: boolean;
}

/** rocket-cluster's /status counters over one measurement (after minus before). */
export interface StatusDelta {
  readonly parks: number;
  readonly wakes: number;
  readonly parkedLost: number;
  readonly parkRefused: number;
  readonly queueRejected: number;
  readonly restarts: number;
  readonly generationBefore: number;
  readonly generationAfter: number;
  /** Workers and their states after the measurement, e.g. `ready:2`. */
  readonly workersAfter: string;
}

export interface ReloadMeasurement {
  readonly server: ServerName;
  readonly round: number;
  readonly load: LoadResult;
  /** wrk socket errors (connect, read, write, timeout) + non-2xx responses. */
  readonly failed: number;
  readonly reloads: ReloadTiming[];
  readonly status?: StatusDelta;
}

export interface ReloadResult {
  readonly measurements: ReloadMeasurement[];
}

// rocket-cluster's master logs `reload complete` / `reload aborted, ...` /
// `reload refused: ...`; the node:cluster script `restart ...` the same way.
const END_LINES: Record<ServerKind, { readonly prefix: string }> = {
  'rocket-cluster': { prefix: 'reload' },
  'node:cluster': { prefix: 'restart' },
  'single process': { prefix: 'restart' },
  nginx: { prefix: 'restart' }, // not reloaded by the bench (static part only)
};
// New worker start (15 s by default) plus a drain; far above the few hundred
// ms a healthy reload takes, and it still bounds the run.
const RELOAD_TIMEOUT_MS = 60_000;
const SETTLE_MS = 1000;

/**
 * For each round and server (alternating): `connections` keep-alive
 * connections of load for `reloadDuration` seconds, during which `reloads`
 * SIGHUPs are sent at evenly spaced times, each after the previous reload
 * ended. Every request the generator saw fail is a failed request.
 */
export async function measureReloads(servers: readonly Server[], gen: Generator, opts: BenchOptions, progress: Progress): Promise<ReloadMeasurement[]> {
  const measurements: ReloadMeasurement[] = [];
  const spec = (url: string, durationS: number) => ({ url, durationS, connections: opts.connections, threads: opts.threads, close: false });
  if (opts.warmup > 0) {
    for (const s of servers) {
      progress(`reload warm-up ${s.name}`);
      await gen.run(spec(s.url, opts.warmup));
      await sleep(SETTLE_MS);
    }
  }
  for (let round = 1; round <= opts.reloadRounds; round++) {
    for (const s of servers) {
      const before = s.adminUrl ? await getStatus(s.adminUrl) : undefined;
      const t0 = Date.now();
      const loadDone = gen.run(spec(s.url, opts.reloadDuration));
      let loadEndedAt: number | undefined;
      void loadDone.then(
        () => (loadEndedAt = Date.now()),
        () => (loadEndedAt = Date.now()),
      );
      const reloads: ReloadTiming[] = [];
      let reloadError: unknown;
      try {
        for (let i = 1; i <= opts.reloads; i++) {
          const at = t0 + (i * opts.reloadDuration * 1000) / (opts.reloads + 1);
          if (Date.now() < at) await sleep(at - Date.now());
          reloads.push(await reloadOnce(s, t0));
        }
      } catch (e) {
        reloadError = e;
      }
      // The generator has its own deadline, so this wait is bounded too.
      const load = await loadDone;
      if (reloadError !== undefined) throw reloadError;
      const timings = reloads.map((r) => ({ ...r, duringLoad: loadEndedAt === undefined || t0 + r.atS * 1000 + r.ms <= loadEndedAt }));
      s.process.tree(); // remember the new workers for stop()
      const status = before && s.adminUrl ? delta(before, await getStatus(s.adminUrl)) : undefined;
      const m: ReloadMeasurement = { server: s.name, round, load, failed: load.errors + load.non2xx, reloads: timings, ...(status ? { status } : {}) };
      measurements.push(m);
      const st = status ? `, parks ${status.parks}, wakes ${status.wakes}, lost ${status.parkedLost}, workers ${status.workersAfter}` : '';
      progress(
        `reload round ${round} ${s.name}: ${load.requests} requests, failed ${m.failed} (errors ${load.errors}, non-2xx ${load.non2xx}); reloads ${timings.map((r) => `${r.outcome} ${r.ms} ms`).join(', ')}${st}`,
      );
      await sleep(SETTLE_MS);
    }
  }
  return measurements;
}

async function reloadOnce(s: Server, t0: number): Promise<ReloadTiming> {
  const prefix = END_LINES[s.kind].prefix;
  const outcomeOf = (l: LogLine): ReloadTiming['outcome'] | null => {
    const msg = typeof l.msg === 'string' ? l.msg : '';
    if (msg === `${prefix} complete`) return 'complete';
    if (msg.startsWith(`${prefix} aborted`)) return 'aborted';
    if (msg.startsWith(`${prefix} refused`)) return 'refused';
    return null;
  };
  // Listen before signalling: a line that arrives first would be missed.
  const ended = s.process.waitForLine((l) => outcomeOf(l) !== null, RELOAD_TIMEOUT_MS);
  const sent = Date.now();
  process.kill(s.masterPid, 'SIGHUP');
  const line = await ended;
  const outcome = outcomeOf(line)!;
  return { atS: (sent - t0) / 1000, ms: Date.now() - sent, outcome, ...(outcome === 'complete' ? {} : { message: String(line.msg) }), duringLoad: true };
}

function delta(a: StatusReport, b: StatusReport): StatusDelta {
  const states = new Map<string, number>();
  for (const w of b.workers) states.set(w.state, (states.get(w.state) ?? 0) + 1);
  return {
    parks: b.connections.parks - a.connections.parks,
    wakes: b.connections.wakes - a.connections.wakes,
    parkedLost: b.parked.lost - a.parked.lost,
    parkRefused: b.parked.refused - a.parked.refused,
    queueRejected: b.queue.rejected - a.queue.rejected,
    restarts: b.restarts - a.restarts,
    generationBefore: a.generation,
    generationAfter: b.generation,
    workersAfter: [...states].map(([k, n]) => `${k}:${n}`).join(' '),
  };
}
