import { getStatus, waitForStatus } from './admin-client.js';
import { KeepAliveClient } from './keepalive-client.js';
import { median, percentile } from './stats.js';
import type { Server } from './servers.js';

export interface ParkLatencyResult {
  readonly samples: number;
  readonly hotMs: { readonly median: number; readonly p90: number; readonly all: number[] };
  readonly parkedMs: { readonly median: number; readonly p90: number; readonly all: number[] };
  /** Median of parked minus median of hot: what a park->unpark round trip adds. */
  readonly addedMedianMs: number;
}

const PARK_WAIT_MS = 15_000;

/**
 * On one keep-alive connection, alternately times a request on a hot
 * connection (sent right after the previous response, so it is still in its
 * worker) and one sent after the cluster reported that it parked the connection
 * (it must travel monitor -> master -> worker before it is served). Both go
 * through the same client, so client overhead cancels out in the difference.
 */
export async function measureParkLatency(server: Server, samples: number): Promise<ParkLatencyResult> {
  const admin = server.adminUrl;
  if (admin === undefined) throw new Error('park latency needs a rocket-cluster with --admin');
  const client = new KeepAliveClient(server.url);
  const hot: number[] = [];
  const parked: number[] = [];
  try {
    await client.get(); // opens the connection; not timed (includes connect)
    for (let i = 0; i < samples; i++) {
      const before = await getStatus(admin);
      const h = await client.get();
      check(h, 'hot');
      hot.push(h.ms);
      const afterHot = await waitForStatus(admin, 'the connection to park', (s) => s.connections.parks > before.connections.parks && s.parked.count > 0, PARK_WAIT_MS);
      if (afterHot.connections.wakes !== before.connections.wakes) throw new Error('the "hot" request woke a parked connection: --park-after is too short for this machine');
      const p = await client.get();
      check(p, 'parked');
      parked.push(p.ms);
      // Proves the timed request really woke a parked socket rather than
      // racing a park that had not completed.
      await waitForStatus(admin, 'the parked connection to wake', (s) => s.connections.wakes > afterHot.connections.wakes, PARK_WAIT_MS);
    }
  } finally {
    client.close();
  }
  const hotMedian = median(hot);
  const parkedMedian = median(parked);
  return {
    samples,
    hotMs: { median: hotMedian, p90: percentile(hot, 90), all: hot },
    parkedMs: { median: parkedMedian, p90: percentile(parked, 90), all: parked },
    addedMedianMs: parkedMedian - hotMedian,
  };
}

function check(r: { status: number; reused: boolean }, what: string): void {
  if (r.status !== 200) throw new Error(`${what} request answered ${r.status}`);
  // A new connection would time a TCP connect instead of a wake-up.
  if (!r.reused) throw new Error(`${what} request did not reuse the keep-alive connection: the server closed it`);
}
