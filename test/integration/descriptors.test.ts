import http from 'node:http';
import { describe, expect, it, onTestFinished } from 'vitest';
import { alive, fixture, startCluster, type Cluster } from '../helpers/cluster.js';
import { clusterPids, freeze, getOnce, lowestFreeDescriptor, scrape, setFileLimit } from '../helpers/faults.js';
import { RawClient } from '../helpers/raw-client.js';
import { get } from '../helpers/requests.js';

const app = fixture('faults-app.mjs');

/** A worker's soft limit on open files in these tests: about 40 connections above what it uses idle (about 21). */
const LIMIT = 64;

const OUT_OF_FDS = 'out of file descriptors';

/**
 * An idle keep-alive connection that has had one request: resolves once it
 * was answered, or closed unanswered (a process out of descriptors accepted
 * and closed it: libuv's "EMFILE trick").
 */
async function idleClient(port: number, clients: RawClient[]): Promise<void> {
  const client = await RawClient.connect(port);
  clients.push(client);
  await client.write(get('/idle'));
  await client.until(() => client.closed || client.text.includes('\r\n\r\n'), 15_000, 'an answer or a close', true);
}

function closeAll(clients: RawClient[]): void {
  for (const c of clients.splice(0)) c.close();
}

/** GET /status on a connection of its own (fetch would reuse a keep-alive one); rejects if no answer within 1 s. */
function adminOnNewConnection(cluster: Cluster): Promise<number> {
  const { hostname, port } = new URL(cluster.adminUrl);
  return new Promise((resolve, reject) => {
    const req = http.get({ host: hostname, port, path: '/status', agent: false, timeout: 1000 }, (res) => resolve(res.statusCode ?? 0));
    req.on('timeout', () => req.destroy(new Error('no answer within 1 s')));
    req.on('error', reject);
  });
}

/** Polls GET `path` on new connections until one is answered 200; resolves with how long that took. */
async function servedAgain(cluster: Cluster, path: string): Promise<number> {
  const start = performance.now();
  await expect
    .poll(() => getOnce(cluster.port, path).then((r) => r.status, (e: Error) => e.message), { timeout: 15_000, interval: 10 })
    .toBe(200);
  return Math.round(performance.now() - start);
}

describe('running out of file descriptors', () => {
  it('workers that run out are counted in /status and /metrics, warn once per interval, keep their pids, and serve again once clients close', async ({ annotate }) => {
    // Keep-alive time far above the test's length: idle connections must hold their descriptors until the test closes them.
    const cluster = await startCluster(app, ['--workers', '2', '--keep-alive-timeout', '60000', '--no-access-log']);
    const pids = clusterPids(await cluster.status());
    const limitedAt = Date.now();
    for (const pid of pids.workers) setFileLimit(pid, LIMIT);
    await expect.poll(async () => (await cluster.status()).workers.map((w) => w.descriptors.limit), { timeout: 10_000 }).toEqual([LIMIT, LIMIT]);

    const clients: RawClient[] = [];
    onTestFinished(() => closeAll(clients));
    // Idle connections, a batch at a time, until clients are hung up on unanswered and a worker has reported
    // that it ran out (it samples on its 0.5 s heartbeat).
    // Workers hand connections over their accept limit to the master's queue, and that limit grows with the pool's
    // load, so how many clients it takes depends on how load reports and batches interleave (1280 were not enough once,
    // on a busy CI machine): the bound only stops a test that could never succeed.
    const hungUp = () => clients.some((c) => c.closed && !c.text.startsWith('HTTP/1.1'));
    while (!hungUp()) {
      expect(clients.length).toBeLessThan(60 * LIMIT);
      await Promise.all(Array.from({ length: 16 }, () => idleClient(cluster.port, clients)));
    }
    // The idle clients still hold the worker's descriptors: its next heartbeat sees it out of them.
    await expect.poll(async () => (await cluster.status()).descriptors.workers.exhausted, { timeout: 10_000 }).toBeGreaterThan(0);
    const status = await cluster.status();
    expect(status.descriptors.exhausted).toBeGreaterThanOrEqual(status.descriptors.workers.exhausted);
    expect(status.workers.some((w) => w.descriptors.exhausted > 0 && w.descriptors.open !== null && w.descriptors.open >= LIMIT - 8)).toBe(true);
    const samples = await scrape(cluster);
    expect(samples.get('rocket_cluster_fd_exhausted_total{process="worker"}')).toBeGreaterThanOrEqual(status.descriptors.workers.exhausted);

    // No process died or was replaced.
    expect(status.workers.map((w) => w.pid)).toEqual(pids.workers);
    expect(status.monitor.pid).toBe(pids.monitor);
    expect(status.restarts).toBe(0);
    for (const pid of [pids.master, pids.monitor, ...pids.workers]) expect(alive(pid)).toBe(true);

    // A warning when an episode begins and at most one per 10 s while it lasts, never one per connection closed unserved.
    const elapsed = Date.now() - limitedAt;
    for (const w of status.workers) {
      const warnings = cluster.logs.filter((l) => l.pid === w.pid && l.msg.startsWith(OUT_OF_FDS));
      expect(warnings.length).toBeLessThanOrEqual(w.descriptors.exhausted + Math.floor(elapsed / 10_000));
    }
    expect(cluster.logs.filter((l) => l.msg.startsWith('accept failed'))).toEqual([]);

    closeAll(clients);
    const ms = await servedAgain(cluster, '/after');
    await annotate(`served again ${ms} ms after the idle clients closed (${status.descriptors.workers.exhausted} exhaustion episodes)`);
    expect((await cluster.status()).workers.map((w) => w.pid)).toEqual(pids.workers);
  });

  it('a connection whose descriptor the kernel drops on its way to a worker out of them comes back: the worker is not killed as hung, and serves it once it has descriptors again', async ({ annotate }) => {
    // --accept master: every connection reaches the worker over IPC. No queue bound, so the connection can wait for the worker.
    const cluster = await startCluster(app, ['--workers', '1', '--accept', 'master', '--queue-timeout', '0', '--no-access-log']);
    const pids = clusterPids(await cluster.status());
    const worker = pids.workers[0]!;
    // Stopped, the worker cannot report that it is out of descriptors before the master sends it one.
    freeze(worker);
    setFileLimit(worker, lowestFreeDescriptor(worker));
    const client = await RawClient.connect(cluster.port);
    onTestFinished(() => client.close());
    await client.write(get('/dropped'));
    // On its way: accepted, out of the queue, not acknowledged.
    await expect.poll(async () => (await cluster.status()).connections.accepted, { timeout: 10_000 }).toBe(1);
    await expect.poll(async () => (await cluster.status()).queue.depth, { timeout: 10_000 }).toBe(0);
    process.kill(worker, 'SIGCONT');
    const dropped = performance.now();

    // After the ack timeout (10 s) the master finds the worker answering: the descriptor was dropped, not held by a hung process.
    await expect.poll(async () => (await cluster.status()).descriptors.workers.droppedOnTheWay, { timeout: 20_000, interval: 100 }).toBe(1);
    const status = await cluster.status();
    expect(status.descriptors.workers.exhausted).toBeGreaterThanOrEqual(1);
    expect(status.queue.depth).toBe(1); // back in the queue, waiting: the worker says it is out of descriptors
    expect(client.text).toBe('');
    expect((await scrape(cluster)).get('rocket_cluster_fd_dropped_connections_total')).toBe(1);

    const freed = performance.now();
    setFileLimit(worker, 4096);
    const [res] = await client.responses(1, 10_000);
    await annotate(`found dropped ${Math.round(freed - dropped)} ms after the worker resumed; served ${Math.round(performance.now() - freed)} ms after the worker had descriptors again`);
    expect(res!.status).toBe(200);
    expect(JSON.parse(res!.body)).toMatchObject({ pid: worker, url: '/dropped' });
    const after = await cluster.status();
    expect(after.workers.map((w) => w.pid)).toEqual([worker]);
    expect(after.restarts).toBe(0);
    expect(cluster.logs.filter((l) => l.msg.startsWith('worker did not acknowledge'))).toEqual([]);
  });

  it('a master out of descriptors counts it, survives a worker and the monitor dying meanwhile, and starts them again once it has descriptors', async ({ annotate }) => {
    const cluster = await startCluster(app, ['--workers', '1', '--no-access-log']);
    const pids = clusterPids(await cluster.status());
    // Below every descriptor a dead child frees (they were opened after Node's first ten): every new one fails (EMFILE).
    setFileLimit(pids.master, 10);
    await cluster.waitForLog((l) => l.role === 'master' && l.msg.startsWith(OUT_OF_FDS));
    // Its admin listener cannot accept now: libuv closes what it accepts, or (its spare descriptor gone) hands the
    // error to the server, which must not take the master down.
    for (let i = 0; i < 3; i++) expect(await adminOnNewConnection(cluster).catch(() => null)).toBeNull();

    // Killed, the worker and the monitor cannot be started again: a fork needs descriptors for its pipes.
    process.kill(pids.workers[0]!, 'SIGKILL');
    await cluster.waitForLog((l) => l.msg === 'could not start a worker process: trying again until it starts');
    process.kill(pids.monitor, 'SIGKILL');
    await cluster.waitForLog((l) => l.msg === 'could not start the monitor process: trying again until it starts');
    expect(alive(pids.master)).toBe(true);

    const [freed, freedAt] = [performance.now(), Date.now()];
    setFileLimit(pids.master, 4096);
    await expect
      .poll(async () => {
        const s = await cluster.status().catch(() => null);
        return s !== null && s.monitor.state === 'ready' && s.workers.some((w) => w.state === 'ready' && w.pid !== pids.workers[0]);
      }, { timeout: 15_000, interval: 20 })
      .toBe(true);
    const at = (msg: string) => Date.parse(String(cluster.logs.find((l) => l.msg === msg)?.time)) - freedAt;
    await annotate(
      `worker and monitor ready again ${Math.round(performance.now() - freed)} ms after the master had descriptors again (forked after ${at('a worker process started again')} and ${at('the monitor process started again')} ms)`,
    );
    const status = await cluster.status();
    expect(status.pid).toBe(pids.master);
    expect(status.descriptors.master.exhausted).toBeGreaterThanOrEqual(1);
    expect(status.restarts).toBe(1); // one dead worker, one restart: failed starts are retried, not counted
    expect(status.monitor.restarts).toBe(1);
    expect(status.pool.errored).toBeNull(); // failed starts are not a crash loop
    expect((await scrape(cluster)).get('rocket_cluster_fd_exhausted_total{process="master"}')).toBeGreaterThanOrEqual(1);
    expect((await getOnce(cluster.port, '/again')).status).toBe(200);
    // Each failure is logged once per streak, not once per retry.
    expect(cluster.logs.filter((l) => l.msg.startsWith('could not start a worker process'))).toHaveLength(1);
  });
});
