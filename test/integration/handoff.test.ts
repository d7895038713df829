import { describe, expect, it } from 'vitest';
import { fixture, startCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';
import { get } from '../helpers/requests.js';

describe('a connection on its way to a worker is never lost', () => {
  it('is re-queued and served by the replacement when its worker dies before acknowledging it', async () => {
    // --queue-timeout 0: the re-queued connection waits for the replacement to start, which a loaded machine can make slower than the bound.
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '1', '--accept', 'master', '--queue-timeout', '0']);
    const [worker] = (await cluster.status()).workers;
    const stoppedPid = worker!.pid!;
    // A stopped worker cannot acknowledge: the handle stays in flight, still owned by the master.
    process.kill(stoppedPid, 'SIGSTOP');
    const client = await RawClient.connect(cluster.port);
    await client.write(get('/after-crash'));
    await expect.poll(async () => (await cluster.status()).connections.accepted, { timeout: 10_000 }).toBe(1);
    expect((await cluster.status()).connections.dispatched).toBe(0);
    process.kill(stoppedPid, 'SIGKILL');
    const [res] = await client.responses(1, 15_000);
    const echo = JSON.parse(res!.body) as { pid: number; url: string };
    expect(echo.url).toBe('/after-crash');
    expect(echo.pid).not.toBe(stoppedPid);
    const status = await cluster.status();
    expect(status.restarts).toBe(1);
    expect(status.workers.map((w) => w.pid)).toEqual([echo.pid]);
    client.close();
  });
});
