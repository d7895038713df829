import { describe, expect, it } from 'vitest';
import { fixture, startCluster, type Cluster } from '../helpers/cluster.js';
import { clusterPids, getOnce, openDescriptors } from '../helpers/faults.js';
import { RawClient } from '../helpers/raw-client.js';
import { get, head } from '../helpers/requests.js';

const app = fixture('faults-app.mjs');
const RESETS = 20;
const MB = 1024 * 1024;

/** Every process's open descriptors, by pid. */
function descriptorCounts(pids: readonly number[]): Record<number, number | null> {
  return Object.fromEntries(pids.map((pid) => [pid, openDescriptors(pid)]));
}

/** A client reads the head and a first megabyte of a 64 MB response, then resets the connection (RST). */
async function resetMidResponse(cluster: Cluster): Promise<void> {
  const client = await RawClient.connect(cluster.port);
  await client.write(get('/big?mb=64'));
  await client.until(() => client.socket.bytesRead > MB, 15_000, 'the first megabyte');
  client.socket.resetAndDestroy();
}

/** A client sends the head and a first megabyte of a 64 MB upload, then resets the connection (RST). */
async function resetMidUpload(cluster: Cluster): Promise<void> {
  const client = await RawClient.connect(cluster.port);
  await client.write(head('POST', '/upload', [`Content-Length: ${64 * MB}`]));
  await client.write(Buffer.alloc(MB, 'u'));
  client.socket.resetAndDestroy();
}

describe.each(['workers', 'master'] as const)('clients that reset mid-transfer (--accept %s)', (accept) => {
  it(`${RESETS} resets mid-response and ${RESETS} mid-upload leave every process's descriptor count at its baseline`, async ({ annotate }) => {
    const cluster = await startCluster(app, ['--workers', '2', '--accept', accept, '--no-access-log']);
    // Warm up: whatever a process opens once, on its first large transfer, is part of its baseline.
    for (let i = 0; i < 4; i++) {
      expect((await getOnce(cluster.port, '/big?mb=2')).body.length).toBe(2 * MB);
      const upload = await RawClient.connect(cluster.port);
      await upload.write(Buffer.concat([Buffer.from(head('POST', '/upload', [`Content-Length: ${MB}`, 'Connection: close'])), Buffer.alloc(MB)]));
      await upload.closedByServer();
      expect(upload.text).toContain(`{"length":${MB}}`);
    }
    const before = await cluster.status();
    const pids = clusterPids(before);
    const all = [pids.master, pids.monitor, ...pids.workers];
    const baseline = descriptorCounts(all);

    for (let i = 0; i < RESETS; i++) await resetMidResponse(cluster);
    for (let i = 0; i < RESETS; i++) await resetMidUpload(cluster);

    const start = performance.now();
    await expect
      .poll(() => all.map((pid) => (openDescriptors(pid) ?? Infinity) <= (baseline[pid] ?? -1)), { timeout: 10_000, interval: 20 })
      .toEqual(all.map(() => true));
    await annotate(`descriptor counts back at baseline ${Math.round(performance.now() - start)} ms after the last reset: ${JSON.stringify(baseline)}`);

    // Workers report departures batched over 20 ms: the master's count follows.
    await expect.poll(async () => (await cluster.status()).workers.reduce((n, w) => n + w.connections, 0), { timeout: 5000 }).toBe(0);
    const after = await cluster.status();
    expect(after.workers.map((w) => w.pid)).toEqual(pids.workers);
    expect(after.restarts).toBe(0);
    expect((await getOnce(cluster.port, '/after')).status).toBe(200);
    expect(cluster.logs.filter((l) => l.level >= 50)).toEqual([]);
  });
});
