import { describe, expect, it } from 'vitest';
import { fixture, startCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';
import { get } from '../helpers/requests.js';

describe('the pool scales on queue depth', () => {
  it('a burst of slow requests grows the pool from min toward max, and it shrinks back to min when idle', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), [
      '--min-workers', '1',
      '--max-workers', '3',
      '--worker-connections', '1', // one slow request fills a worker
      '--scale-down-after', '400',
      // Growth, not shedding: on a loaded machine the last connection can wait for two starts in a row past --queue-timeout.
      '--queue-timeout', '0',
    ]);
    expect((await cluster.status()).pool).toMatchObject({ min: 1, max: 3 });
    expect((await cluster.status()).workers).toHaveLength(1);
    const clients = await Promise.all([1, 2, 3].map(() => RawClient.connect(cluster.port)));
    await Promise.all(clients.map((c, i) => c.write(get(`/slow?ms=1500&n=${i}`, 'Connection: close'))));
    await expect.poll(async () => (await cluster.status()).workers.filter((w) => w.state === 'ready').length, { timeout: 15_000 }).toBe(3);
    const responses = await Promise.all(clients.map((c) => c.responses(1, 15_000)));
    const pids = new Set(responses.map(([r]) => (JSON.parse(r!.body) as { pid: number }).pid));
    expect(pids.size).toBe(3); // each slow request had a worker of its own
    const grown = (await cluster.status()).pool.events.filter((e) => e.kind === 'grow');
    expect(grown.length).toBeGreaterThanOrEqual(1);
    expect(grown[0]!.reason).toMatch(/waiting and every worker full/);
    // Idle now: one worker retires per cool-down until min.
    await expect.poll(async () => (await cluster.status()).workers.length, { timeout: 15_000 }).toBe(1);
    const status = await cluster.status();
    expect(status.pool.events.filter((e) => e.kind === 'shrink')).toHaveLength(2);
    expect(status.restarts).toBe(0);
    for (const c of clients) c.close();
  });
});
