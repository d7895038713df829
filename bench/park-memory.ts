import { setTimeout as sleep } from 'node:timers/promises';
import { getStatus, waitForStatus } from './admin-client.js';
import { KeepAliveClient } from './keepalive-client.js';
import { openFileLimit, rssBytes } from './procfs.js';
import type { Server } from './servers.js';

export interface ParkMemoryResult {
  readonly requested: number;
  /** Sockets parked at the second reading (may be capped by the fd limit). */
  readonly parked: number;
  readonly monitorPid: number;
  readonly rssBeforeBytes: number;
  readonly rssAfterBytes: number;
  readonly bytesPerSocket: number;
  readonly fdLimit: number;
}

// Opening all sockets at once would fill the master's queue (1024 by
// default) and measure 503s instead of parks.
const BATCH = 200;
const WARMUP_SOCKETS = 100;
// Long enough for the monitor's post-burst allocations and a minor GC.
const SETTLE_MS = 1000;
const FD_HEADROOM = 256;

/**
 * RSS of the monitor before and after it holds `count` idle keep-alive
 * sockets, divided by the count. The server must run with a `--park-after`
 * much shorter, and `--keep-alive-timeout`/`--max-parked` much larger, than
 * this measurement needs. RSS includes garbage not yet collected, so this is
 * an upper bound of what a parked socket costs.
 */
export async function measureParkMemory(server: Server, count: number): Promise<ParkMemoryResult> {
  const admin = server.adminUrl;
  if (admin === undefined) throw new Error('park memory needs a rocket-cluster with --admin');
  // The bench holds the client end of each socket, so its own fd limit bounds N.
  const fdLimit = openFileLimit();
  const n = Math.max(1, Math.min(count, fdLimit - FD_HEADROOM));
  const monitorPid = (await getStatus(admin)).monitor.pid;
  if (monitorPid === null) throw new Error('rocket-cluster reports no monitor');

  // Pays the monitor's one-time costs (code paths compiled, maps grown) so the
  // baseline is a monitor that has parked before.
  await withParked(admin, server.url, WARMUP_SOCKETS, async () => undefined);
  await sleep(SETTLE_MS);
  const rssBeforeBytes = mustRss(monitorPid);
  const { parked, rssAfterBytes } = await withParked(admin, server.url, n, async (p) => {
    await sleep(SETTLE_MS);
    return { parked: p, rssAfterBytes: mustRss(monitorPid) };
  });
  return { requested: count, parked, monitorPid, rssBeforeBytes, rssAfterBytes, bytesPerSocket: (rssAfterBytes - rssBeforeBytes) / parked, fdLimit };
}

/** Opens `n` connections that each make one request, waits until all are parked, runs `fn`, then closes them all. */
async function withParked<T>(admin: string, url: string, n: number, fn: (parked: number) => Promise<T>): Promise<T> {
  const base = (await getStatus(admin)).parked.count;
  const clients: KeepAliveClient[] = [];
  let result: T;
  try {
    for (let i = 0; i < n; i += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, n - i) }, () => new KeepAliveClient(url));
      clients.push(...batch);
      const replies = await Promise.all(batch.map((c) => c.get(30_000)));
      const bad = replies.find((r) => r.status !== 200);
      if (bad) throw new Error(`a connection for the park measurement got ${bad.status}: ${bad.body.trim()}`);
    }
    const s = await waitForStatus(admin, `${n} parked sockets`, (st) => st.parked.count >= base + n, 60_000, 100);
    result = await fn(s.parked.count - base);
  } finally {
    for (const c of clients) c.close();
  }
  // The monitor must notice that clients closed (DESIGN.md §2: "a client that
  // closes is forgotten"); the next reading also needs it back at the baseline.
  await waitForStatus(admin, 'the monitor to forget closed parked sockets', (st) => st.parked.count <= base, 30_000, 100);
  return result;
}

function mustRss(pid: number): number {
  const r = rssBytes(pid);
  if (r === null) throw new Error(`monitor ${pid} is gone`);
  return r;
}
