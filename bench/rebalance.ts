import { setTimeout as sleep } from 'node:timers/promises';
import type { StatusReport } from '../src/shared/status-report.js';
import { rocketStatus } from './admin-client.js';
import type { Generator, LoadResult } from './load/types.js';
import { startRocket, type Server } from './servers.js';

/** One run: a fresh 1..2 pool under busy keep-alive load, from one worker to two and back. */
export interface RebalanceSample {
  readonly round: number;
  /** Load start → the pool's grow event. */
  readonly growAfterMs: number | null;
  /** Load start → the second worker first seen ready (status polled every POLL_MS). */
  readonly readyAfterMs: number | null;
  /** The second worker's share of the requests served in the SHARE_WINDOW_MS after it was ready. */
  readonly newWorkerShare: number | null;
  /** Connections moved between workers (`/status connections.moved`) during the run. */
  readonly moved: number;
  /** Load end → back to one worker. */
  readonly shrinkAfterMs: number | null;
  readonly load: LoadResult;
}

export interface RebalanceOptions {
  readonly rounds: number;
  /** Seconds of load per round. */
  readonly durationS: number;
  readonly connections: number;
  readonly threads: number;
}

/** The figures: within 2 s the second worker starts; within 3 s of ready it serves at least 35%. */
export const REBALANCE_TARGETS = { readyWithinMs: 2000, shareWindowMs: 3000, minShare: 0.35 } as const;
/** The load: 20 busy keep-alive clients, one saturated worker's worth. */
export const REBALANCE_CONNECTIONS = 20;
const POLL_MS = 100;
/** Scale-down cool-down for the run (the default is 10 s): long enough to outlast the load's jitter, short enough to time. */
const SCALE_DOWN_AFTER_MS = 2000;
const SHRINK_TIMEOUT_MS = 20_000;

/**
 * The keep-alive rebalance no peer can do: `--min-workers 1 --max-workers 2`
 * and `connections` busy keep-alive clients (wrk). node:cluster and PM2 pin
 * each connection to its worker for life, so a worker they add later serves
 * none of these clients; here the first worker saturates, the pool grows on
 * that, and the saturated worker hands connections back between requests.
 */
export async function measureRebalance(gen: Generator, o: RebalanceOptions, progress: (text: string) => void): Promise<RebalanceSample[]> {
  const samples: RebalanceSample[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const server = await startRocket({
      name: 'rocket-cluster, 1..2 workers',
      admin: false,
      poolArgs: ['--min-workers', '1', '--max-workers', '2', '--scale-down-after', String(SCALE_DOWN_AFTER_MS)],
    });
    try {
      const sample = await oneRound(server, gen, o, round);
      samples.push(sample);
      progress(
        `rebalance round ${round}: grow after ${sample.growAfterMs ?? '-'} ms, second worker ready after ${sample.readyAfterMs ?? '-'} ms, ` +
          `its share in ${REBALANCE_TARGETS.shareWindowMs} ms ${sample.newWorkerShare === null ? '-' : (sample.newWorkerShare * 100).toFixed(1) + '%'}, ` +
          `moved ${sample.moved}, shrink after ${sample.shrinkAfterMs ?? '-'} ms, ${Math.round(sample.load.rps)} req/s, errors ${sample.load.errors}, non-2xx ${sample.load.non2xx}`,
      );
    } finally {
      await server.process.stop();
    }
  }
  return samples;
}

interface Poll {
  readonly at: number;
  readonly status: StatusReport;
}

async function oneRound(server: Server, gen: Generator, o: RebalanceOptions, round: number): Promise<RebalanceSample> {
  const first = (await rocketStatus(server)).workers[0]?.id;
  const polls: Poll[] = [];
  let loading = true;
  const start = Date.now();
  const load = gen.run({ url: server.url, durationS: o.durationS, connections: o.connections, threads: o.threads, close: false }).finally(() => (loading = false));
  while (loading) {
    polls.push({ at: Date.now(), status: await rocketStatus(server) });
    await sleep(POLL_MS);
  }
  const result = await load;
  const end = Date.now();
  let shrinkAfterMs: number | null = null;
  while (Date.now() - end < SHRINK_TIMEOUT_MS) {
    if ((await rocketStatus(server)).workers.length === 1) {
      shrinkAfterMs = Date.now() - end;
      break;
    }
    await sleep(POLL_MS);
  }
  const last = polls.at(-1)?.status;
  const grow = last?.pool.events.find((e) => e.kind === 'grow');
  const isNew = (w: StatusReport['workers'][number]) => w.id !== first && w.state === 'ready';
  const ready = polls.find((p) => p.status.workers.some(isNew));
  return {
    round,
    growAfterMs: grow ? Date.parse(grow.at) - start : null,
    readyAfterMs: ready ? ready.at - start : null,
    newWorkerShare: ready ? shareAfter(polls, ready, first) : null,
    moved: last?.connections.moved ?? 0,
    shrinkAfterMs,
    load: result,
  };
}

/** The new worker's share of requests served between `ready` and the first poll SHARE_WINDOW_MS later. */
function shareAfter(polls: readonly Poll[], ready: Poll, first: number | undefined): number | null {
  const later = polls.find((p) => p.at >= ready.at + REBALANCE_TARGETS.shareWindowMs);
  if (!later) return null;
  const served = (p: Poll) => {
    let mine = 0;
    let all = 0;
    for (const w of p.status.workers) {
      all += w.served;
      if (w.id !== first) mine += w.served;
    }
    return { mine, all };
  };
  const a = served(ready);
  const b = served(later);
  return b.all > a.all ? (b.mine - a.mine) / (b.all - a.all) : null;
}
