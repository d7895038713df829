import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fixture, startCluster, type Cluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';
import { get, post } from '../helpers/requests.js';

const PARK_AFTER = 150;

interface Echo {
  pid: number;
  method: string;
  url: string;
  length: number;
  sha256: string;
}

/** Resolves once the cluster has parked `n` connections in all (counted by the master). */
async function parked(cluster: Cluster, n: number): Promise<void> {
  await expect.poll(async () => (await cluster.status()).connections.parks, { timeout: 10_000, interval: 25 }).toBeGreaterThanOrEqual(n);
  await expect.poll(async () => (await cluster.status()).parked.count, { timeout: 10_000, interval: 25 }).toBeGreaterThanOrEqual(1);
}

describe('an idle keep-alive connection moves to the monitor and back without losing a byte', () => {
  it('parks after park-after ms, and a request split into pieces across the park is served whole', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '2', '--park-when', 'idle', '--park-after', String(PARK_AFTER)]);
    const client = await RawClient.connect(cluster.port);
    await client.write(get('/first'));
    await client.responses(1);
    await parked(cluster, 1);
    // The first piece wakes the socket in the monitor; the rest arrives while it travels back.
    const second = get('/second');
    await client.write(second.slice(0, 8)); // GET /sec
    await client.write(second.slice(8, 24)); // ...up to the middle of the Host header
    await client.write(second.slice(24));
    const responses = await client.responses(2);
    expect(responses.map((r) => (JSON.parse(r.body) as Echo).url)).toEqual(['/first', '/second']);
    const status = await cluster.status();
    expect(status.connections.wakes).toBeGreaterThanOrEqual(1);
    client.close();
  });

  it('serves pipelined requests that arrive together right after a park, in order', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '2', '--park-when', 'idle', '--park-after', String(PARK_AFTER)]);
    const client = await RawClient.connect(cluster.port);
    await client.write(get('/warm'));
    await client.responses(1);
    await parked(cluster, 1);
    await client.write(get('/a') + get('/b') + get('/c') + get('/d'));
    const responses = await client.responses(5);
    expect(responses.map((r) => (JSON.parse(r.body) as Echo).url)).toEqual(['/warm', '/a', '/b', '/c', '/d']);
    client.close();
  });

  it('receives a large POST body sent after a park intact', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '2', '--park-when', 'idle', '--park-after', String(PARK_AFTER)]);
    const client = await RawClient.connect(cluster.port);
    await client.write(get('/warm'));
    await client.responses(1);
    await parked(cluster, 1);
    const body = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31 + (i >> 9)) & 0xff;
    await client.write(post('/upload', body));
    const [, upload] = await client.responses(2, 20_000);
    const echo = JSON.parse(upload!.body) as Echo;
    expect(echo.length).toBe(body.length);
    expect(echo.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    client.close();
  });

  it('does not park a connection while a request is only partly received', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '1', '--park-when', 'idle', '--park-after', String(PARK_AFTER)]);
    const client = await RawClient.connect(cluster.port);
    const two = get('/two');
    await client.write(get('/one') + two.slice(0, 7)); // and the start of the next request: GET /tw
    await client.responses(1);
    // A control connection that goes idle later than the half-read one: once it
    // is parked, the half-read one has been idle for longer than park-after.
    const control = await RawClient.connect(cluster.port);
    await control.write(get('/control'));
    await control.responses(1);
    await parked(cluster, 1);
    expect((await cluster.status()).connections.parks).toBe(1);
    await client.write(two.slice(7));
    const responses = await client.responses(2);
    expect((JSON.parse(responses[1]!.body) as Echo).url).toBe('/two');
    client.close();
    control.close();
  });

  it('regression: a woken connection whose replayed bytes hold part of the next request is not parked mid-request', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '1', '--park-when', 'idle', '--park-after', String(PARK_AFTER)]);
    const client = await RawClient.connect(cluster.port);
    await parked(cluster, 1); // parked before its first byte, like a browser's preconnect
    // One chunk: a whole request and the first byte of the next. The monitor reads
    // both, so the worker gets them replayed and its socket has read nothing itself.
    const second = get('/second');
    await client.write(get('/first') + second.slice(0, 1));
    await client.responses(1);
    const control = await RawClient.connect(cluster.port);
    await control.write(get('/control'));
    await control.responses(1);
    await parked(cluster, 2); // the control connection went idle later and is parked: park-after has passed
    expect((await cluster.status()).connections.parks).toBe(2);
    await client.write(second.slice(1));
    const responses = await client.responses(2);
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    expect((JSON.parse(responses[1]!.body) as Echo).url).toBe('/second');
    client.close();
    control.close();
  });
});

describe('--park-when pressure (the default)', () => {
  it('keeps an idle connection in its worker while it holds under 90% of --worker-connections: Node closes it at the keep-alive timeout, unparked', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '1', '--worker-connections', '10', '--park-after', '100', '--keep-alive-timeout', '800']);
    const client = await RawClient.connect(cluster.port);
    await client.write(get('/idle'));
    await client.responses(1);
    await client.closedByServer(); // idle 800 ms, long past --park-after
    const status = await cluster.status();
    expect(status.connections.parks).toBe(0);
    expect(status.parked.count).toBe(0);
  });

  it('parks idle connections while the worker holds 90% of --worker-connections, and they come back on their next request', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '1', '--worker-connections', '2', '--park-after', '100']);
    const clients = await Promise.all([0, 1].map(() => RawClient.connect(cluster.port)));
    await Promise.all(clients.map((c, i) => c.write(get(`/first?c=${i}`))));
    await Promise.all(clients.map((c) => c.responses(1)));
    // At the mark (2 of 2) an idle connection parks; one parked may take the worker under it, so the other may stay.
    await expect.poll(async () => (await cluster.status()).parked.count, { timeout: 10_000, interval: 25 }).toBeGreaterThanOrEqual(1);
    await expect.poll(async () => (await cluster.status()).workers[0]!.connections, { timeout: 10_000, interval: 25 }).toBeLessThan(2);
    await Promise.all(clients.map((c, i) => c.write(get(`/again?c=${i}`))));
    for (const [i, c] of clients.entries()) {
      const responses = await c.responses(2);
      expect((JSON.parse(responses[1]!.body) as Echo).url).toBe(`/again?c=${i}`);
      c.close();
    }
  });
});
