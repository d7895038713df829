import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/shared/defaults.js';
import { onCleanup } from '../helpers/cleanup.js';
import { fixture, parkedAndHeld, startCluster, type Cluster } from '../helpers/cluster.js';
import { parsePrometheus } from '../helpers/prometheus.js';
import { RawClient } from '../helpers/raw-client.js';
import { get, head } from '../helpers/requests.js';

// --queue-timeout: a connection that waits in the master's queue longer than
// the bound is answered 503 + Retry-After (reject.ts), counted in /status and
// /metrics; one dispatched before it is served as usual; 0 means no bound.
// The queue is filled as in queue.test.ts: one worker, --worker-connections 1,
// its one slot held by a request whose body the test sends when it chooses.

const POLL = { timeout: 10_000, interval: 25 };

async function connect(cluster: Cluster): Promise<RawClient> {
  const client = await RawClient.connect(cluster.port);
  onCleanup(() => client.close());
  return client;
}

/** Resolves once the server has closed the connection, with any socket error on the way (a reset would be one). */
function closeOf(client: RawClient): Promise<Error | undefined> {
  let error: Error | undefined;
  client.socket.on('error', (e) => (error = e));
  return client.closedByServer().then(() => error);
}

/** Fills the one worker's one slot; resolves once the master counts it there. Writing 'done' to it frees the slot. */
async function holdTheWorker(cluster: Cluster, taken: () => Promise<number>): Promise<RawClient> {
  const holder = await connect(cluster);
  await holder.write(head('POST', '/held', ['Content-Length: 4', 'Connection: close']));
  await expect.poll(taken, POLL).toBe(1);
  await expect.poll(async () => (await cluster.status()).workers[0]?.connections, POLL).toBe(1);
  return holder;
}

async function release(holder: RawClient): Promise<void> {
  await holder.write('done');
  expect((await holder.responses(1))[0]?.status).toBe(200);
}

function expectBusy(res: { status: number; headers: Record<string, string> } | undefined): void {
  expect(res?.status).toBe(503);
  expect(res?.headers['retry-after']).toBe('1');
  expect(res?.headers.connection).toBe('close');
}

describe('--queue-timeout', () => {
  it.each(['master', 'workers'] as const)('--accept %s: a connection that waits past the bound gets 503 + Retry-After, is counted, and the worker serves the next one', async (accept) => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '1', '--worker-connections', '1', '--queue-timeout', '300', '--accept', accept]);
    const taken = async () => ((s) => (accept === 'master' ? s.connections.dispatched : s.connections.acceptedByWorkers))(await cluster.status());
    const holder = await holdTheWorker(cluster, taken);

    const late = await connect(cluster);
    const closed = closeOf(late);
    await late.write(get('/late'));
    const [busy] = await late.responses(1);
    expectBusy(busy);
    expect(await closed).toBeUndefined(); // a clean close after the answer, not a reset

    const status = await cluster.status();
    expect(status.queue).toMatchObject({ depth: 0, timedOut: 1, rejected: 0 });
    const metrics = parsePrometheus(await (await fetch(`${cluster.adminUrl}/metrics`)).text());
    expect(metrics.get('rocket_cluster_queue_timed_out_total')).toBe(1);
    expect(metrics.get('rocket_cluster_connections_rejected_total')).toBe(0);

    await release(holder);
    const next = await connect(cluster);
    await next.write(get('/next'));
    const [served] = await next.responses(1);
    expect(served?.status).toBe(200);
    expect((await cluster.status()).queue.timedOut).toBe(1);
  });

  it('a woken keep-alive connection that waits past the bound gets the 503 as the answer to the request the monitor read', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '1', '--worker-connections', '1', '--park-when', 'idle', '--park-after', '100', '--queue-timeout', '300', '--accept', 'master']);
    const idle = await connect(cluster);
    await idle.write(get('/first'));
    expect((await idle.responses(1))[0]?.status).toBe(200);
    await parkedAndHeld(cluster, 1);
    const holder = await holdTheWorker(cluster, async () => (await cluster.status()).connections.dispatched - 1);

    const closed = closeOf(idle);
    await idle.write(get('/again'));
    await expect.poll(async () => (await cluster.status()).connections.wakes, POLL).toBe(1);
    const [, busy] = await idle.responses(2);
    expectBusy(busy);
    expect(await closed).toBeUndefined();
    expect((await cluster.status()).queue).toMatchObject({ depth: 0, timedOut: 1, rejected: 0 });
    await release(holder);
  });

  it('a connection dispatched before its bound is served as usual', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '1', '--worker-connections', '1', '--queue-timeout', '60000', '--accept', 'master']);
    const holder = await holdTheWorker(cluster, async () => (await cluster.status()).connections.dispatched);
    const queued = await connect(cluster);
    await queued.write(get('/queued'));
    await expect.poll(async () => (await cluster.status()).queue.depth, POLL).toBe(1);
    await release(holder);
    const [served] = await queued.responses(1);
    expect(served?.status).toBe(200);
    expect(JSON.parse(served!.body)).toMatchObject({ url: '/queued' });
    expect((await cluster.status()).queue).toMatchObject({ depth: 0, timedOut: 0, rejected: 0 });
  });

  it('--queue-timeout 0: a connection waits as long as it takes, past the default bound, and is then served', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '1', '--worker-connections', '1', '--queue-timeout', '0', '--accept', 'master']);
    const holder = await holdTheWorker(cluster, async () => (await cluster.status()).connections.dispatched);
    const queued = await connect(cluster);
    await queued.write(get('/patient'));
    await expect.poll(async () => (await cluster.status()).queue.oldestWaitMs, { timeout: DEFAULTS.queueTimeout + 10_000, interval: 100 }).toBeGreaterThan(DEFAULTS.queueTimeout + 500);
    expect(queued.text).toBe('');
    expect((await cluster.status()).queue).toMatchObject({ depth: 1, timedOut: 0 });
    await release(holder);
    const [served] = await queued.responses(1);
    expect(served?.status).toBe(200);
    expect((await cluster.status()).queue.timedOut).toBe(0);
  });
});
