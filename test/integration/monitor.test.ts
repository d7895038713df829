import { describe, expect, it } from 'vitest';
import { fixture, parkedAndHeld, startCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';
import { get } from '../helpers/requests.js';

describe('the monitor', () => {
  it('closes a parked connection once its keep-alive time is up, and forgets it', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--park-when', 'idle', '--park-after', '100', '--keep-alive-timeout', '600']);
    const client = await RawClient.connect(cluster.port);
    await client.write(get('/once'));
    const [res] = await client.responses(1);
    expect(res!.headers['keep-alive']).toBe('timeout=0'); // 600 ms, advertised in whole seconds as Node does
    await expect.poll(async () => (await cluster.status()).parked.count, { timeout: 10_000 }).toBe(1);
    await client.closedByServer();
    await expect.poll(async () => (await cluster.status()).parked.count, { timeout: 10_000 }).toBe(0);
    expect((await cluster.status()).connections.wakes).toBe(0);
  });

  it('forgets a parked connection whose client closes', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--park-when', 'idle', '--park-after', '100']);
    const client = await RawClient.connect(cluster.port);
    await client.write(get('/once'));
    await client.responses(1);
    await expect.poll(async () => (await cluster.status()).parked.count, { timeout: 10_000 }).toBe(1);
    client.close();
    await expect.poll(async () => (await cluster.status()).parked.count, { timeout: 10_000 }).toBe(0);
  });

  it('holds at most --max-parked sockets; one more idle connection is closed, the others stay usable', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--park-when', 'idle', '--park-after', '100', '--max-parked', '1']);
    const first = await RawClient.connect(cluster.port);
    await first.write(get('/first'));
    await first.responses(1);
    await expect.poll(async () => (await cluster.status()).parked.count, { timeout: 10_000 }).toBe(1);
    const second = await RawClient.connect(cluster.port);
    await second.write(get('/second'));
    await second.responses(1);
    await second.closedByServer();
    const status = await cluster.status();
    expect(status.parked.count).toBe(1);
    expect(status.parked.refused).toBe(1);
    await first.write(get('/first-again'));
    const responses = await first.responses(2);
    expect(JSON.parse(responses[1]!.body)).toMatchObject({ url: '/first-again' });
    first.close();
  });
});

describe('a monitor that dies', () => {
  it('is replaced at once; the connections it held are counted as lost, and parking works again', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--park-when', 'idle', '--park-after', '100']);
    const client = await RawClient.connect(cluster.port);
    await client.write(get('/once'));
    await client.responses(1);
    await parkedAndHeld(cluster, 1);
    const dead = (await cluster.status()).monitor.pid!;
    process.kill(dead, 'SIGKILL');
    await client.closedByServer(); // the monitor held the only copy of its socket
    await expect
      .poll(async () => {
        const { monitor } = await cluster.status();
        return monitor.state === 'ready' && monitor.pid !== dead;
      }, { timeout: 10_000 })
      .toBe(true);
    const status = await cluster.status();
    expect(status.monitor.restarts).toBe(1);
    expect(status.parked.lost).toBe(1);
    await cluster.waitForLog((l) => l.msg === 'monitor exited: starting a new one' && l.lostParked === 1);
    const again = await RawClient.connect(cluster.port);
    await again.write(get('/again'));
    await again.responses(1);
    await expect.poll(async () => (await cluster.status()).parked.count, { timeout: 10_000 }).toBe(1);
    await again.write(get('/woken'));
    const responses = await again.responses(2);
    expect(JSON.parse(responses[1]!.body)).toMatchObject({ url: '/woken' });
    again.close();
  });
});

describe('logs', () => {
  it('writes one access line per request, from the worker that served it', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '1']);
    const client = await RawClient.connect(cluster.port);
    await client.write(get('/logged?x=1'));
    const [res] = await client.responses(1);
    const servedBy = (JSON.parse(res!.body) as { pid: number }).pid;
    const line = await cluster.waitForLog((l) => l.msg === 'request' && l.path === '/logged?x=1');
    expect(line).toMatchObject({ role: 'worker', pid: servedBy, method: 'GET', status: 200 });
    expect(line.bytes).toBeGreaterThan(Number(res!.headers['content-length']));
    expect(typeof line.ms).toBe('number');
    client.close();
  });
});
