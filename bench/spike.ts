import { getStatus, waitForStatus } from './admin-client.js';
import { KeepAliveClient } from './keepalive-client.js';
import type { Server } from './servers.js';
import { median } from './stats.js';

/** One queue spike on a fresh rocket-cluster with one worker that may grow to two. */
export interface SpikeSample {
  /** Connections opened at once; `workerConnections` of them fill the first worker. */
  readonly connections: number;
  /** From sending the spike to the first response written by a worker that did not exist before it. */
  readonly toNewWorkerMs: number;
  /** From sending the spike to the last response. */
  readonly allServedMs: number;
  /** The grow event /status recorded, with its reason. */
  readonly growEvent: string;
  readonly workersAfter: number;
}

export interface SpikeResult {
  readonly measured: true;
  readonly samples: SpikeSample[];
  readonly medianMs: number;
  readonly maxMs: number;
}

export interface SpikeNotMeasured {
  readonly measured: false;
  readonly reason: string;
}

/** rocket-cluster flags for the spike server: a pool of 1..2, a worker full at this many connections. */
export const SPIKE_WORKER_CONNECTIONS = 10;
export function spikeServerArgs(): string[] {
  return [
    '--min-workers', '1', '--max-workers', '2',
    '--worker-connections', String(SPIKE_WORKER_CONNECTIONS),
    // Connections stay in the first worker (counted as its load) instead of
    // being parked, and the pool does not shrink during the measurement.
    '--park-after', '0', '--keep-alive-timeout', '60000', '--scale-down-after', '600000',
  ];
}

const WAIT_MS = 15_000;

/**
 * Fills the only worker with `SPIKE_WORKER_CONNECTIONS` keep-alive
 * connections (one request each, which it answers at once and then holds),
 * and in the same burst sends as many again, which wait in the master's queue
 * because the worker is full. The pool grows; the time until the first
 * response from the new worker's pid (the hello app writes its pid) is the
 * spike -> new worker serving time. Uses a server started with spikeServerArgs().
 */
export async function measureSpike(server: Server): Promise<SpikeSample> {
  const admin = server.adminUrl;
  if (admin === undefined) throw new Error('spike needs a rocket-cluster with --admin');
  const ready = await waitForStatus(admin, 'one ready worker', (s) => s.workers.filter((w) => w.state === 'ready').length === 1, WAIT_MS);
  if (ready.workers.length !== 1) throw new Error(`expected a pool of 1 worker at the start, got ${ready.workers.length}`);
  const before = new Set(ready.workers.map((w) => String(w.pid)));
  const connections = SPIKE_WORKER_CONNECTIONS * 2;
  const clients = Array.from({ length: connections }, () => new KeepAliveClient(server.url));
  try {
    const t0 = performance.now();
    let firstNew = Number.NaN;
    await Promise.all(
      clients.map(async (c) => {
        const r = await c.get(WAIT_MS);
        if (r.status !== 200) throw new Error(`spike request answered ${r.status}`);
        const pid = /worker (\d+)/.exec(r.body)?.[1];
        if (pid !== undefined && !before.has(pid) && Number.isNaN(firstNew)) firstNew = performance.now() - t0;
      }),
    );
    const allServedMs = performance.now() - t0;
    if (Number.isNaN(firstNew)) throw new Error('no response came from a new worker: the pool did not grow');
    const after = await getStatus(admin);
    const grow = after.pool.events.find((e) => e.kind === 'grow');
    return {
      connections,
      toNewWorkerMs: firstNew,
      allServedMs,
      growEvent: grow ? `${grow.at} grow to ${grow.workers}: ${grow.reason}` : 'none recorded',
      workersAfter: after.workers.length,
    };
  } finally {
    for (const c of clients) c.close();
  }
}

export function summarizeSpikes(samples: SpikeSample[]): SpikeResult {
  const ms = samples.map((s) => s.toNewWorkerMs);
  return { measured: true, samples, medianMs: median(ms), maxMs: Math.max(...ms) };
}
