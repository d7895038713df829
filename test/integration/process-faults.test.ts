import net from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { alive, fixture, parkedAndHeld, startCluster, type Cluster } from '../helpers/cluster.js';
import { clusterPids, freeze, getOnce, killLeftovers } from '../helpers/faults.js';
import { RawClient } from '../helpers/raw-client.js';
import { get } from '../helpers/requests.js';

const app = fixture('faults-app.mjs');

/** A keep-alive connection that has been served one request and now sits idle. */
async function servedIdle(cluster: Cluster, clients: RawClient[]): Promise<RawClient> {
  const client = await RawClient.connect(cluster.port);
  clients.push(client);
  await client.write(get('/idle'));
  await client.responses(1);
  return client;
}

/** Binds `port` on 127.0.0.1 once; resolves with the error code, or null if it could be bound (then it is closed again). */
function bindOnce(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(null)));
  });
}

describe('a process of the cluster killed or stopped', () => {
  it('SIGKILL of the master: no process outlives it (a response stalled by its client included), and its port can be bound again at once', async ({ annotate }) => {
    // A worker left alone bounds its drain by --shutdown-timeout itself: the master that would enforce it is gone.
    const cluster = await startCluster(app, ['--workers', '2', '--park-when', 'idle', '--park-after', '100', '--shutdown-timeout', '1000']);
    const pids = clusterPids(await cluster.status());
    killLeftovers(() => [pids.monitor, ...pids.workers]);
    // Connections in every state: parked in the monitor, idle in a worker, in the middle of a response.
    const clients: RawClient[] = [];
    onTestFinished(() => clients.forEach((c) => c.close()));
    await servedIdle(cluster, clients);
    await parkedAndHeld(cluster, 1);
    await servedIdle(cluster, clients);
    // A client that stops reading: the response never finishes, and its worker waits on it.
    const stalled = await RawClient.connect(cluster.port);
    clients.push(stalled);
    await stalled.write(get('/big?mb=64'));
    await stalled.until(() => stalled.socket.bytesRead > 0, 10_000, 'the response to start');
    stalled.socket.pause();

    const killed = performance.now();
    expect(await cluster.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    for (const pid of [pids.monitor, ...pids.workers]) await expect.poll(() => alive(pid), { timeout: 10_000, interval: 10 }).toBe(false);
    const gone = performance.now();
    // Right after, with no retry: nothing holds the listening socket any more.
    expect(await bindOnce(cluster.port)).toBeNull();
    await annotate(`every child gone ${Math.round(gone - killed)} ms after the master's SIGKILL (one stalled response, --shutdown-timeout 1000); port bound again at once`);
    stalled.socket.resume();
    for (const c of clients) await c.closedByServer();
  });

  it('SIGKILL of the monitor holding 100 parked connections: a new monitor, the 100 counted lost and closed, and parking works again', async ({ annotate }) => {
    const cluster = await startCluster(app, ['--workers', '1', '--park-when', 'idle', '--park-after', '100', '--keep-alive-timeout', '60000', '--no-access-log']);
    const clients: RawClient[] = [];
    onTestFinished(() => clients.forEach((c) => c.close()));
    for (let i = 0; i < 10; i++) await Promise.all(Array.from({ length: 10 }, () => servedIdle(cluster, clients)));
    await parkedAndHeld(cluster, 100);
    const old = (await cluster.status()).monitor.pid!;

    const killed = performance.now();
    process.kill(old, 'SIGKILL');
    await expect
      .poll(async () => {
        const { monitor } = await cluster.status();
        return monitor.state === 'ready' && monitor.pid !== old;
      }, { timeout: 10_000, interval: 10 })
      .toBe(true);
    await annotate(`new monitor ready ${Math.round(performance.now() - killed)} ms after SIGKILL of one holding 100 parked connections`);
    const status = await cluster.status();
    expect(status.monitor.restarts).toBe(1);
    expect(status.parked).toMatchObject({ count: 0, lost: 100 });
    expect(status.monitor.lastRestart?.reason).toBe('exited (code null, signal SIGKILL)');
    await cluster.waitForLog((l) => l.msg === 'monitor exited: starting a new one' && l.lostParked === 100);
    // The monitor held the only copy of each: every client sees its connection closed.
    for (const c of clients) await c.closedByServer();

    const again = await servedIdle(cluster, clients);
    await parkedAndHeld(cluster, 1);
    await again.write(get('/woken'));
    const responses = await again.responses(2);
    expect(JSON.parse(responses[1]!.body)).toMatchObject({ url: '/woken' });
  });

  it('SIGSTOP of a worker: killed after --worker-timeout and replaced; the other worker serves meanwhile', async ({ annotate }) => {
    const cluster = await startCluster(app, ['--workers', '2', '--worker-timeout', '1000', '--no-access-log']);
    const pids = clusterPids(await cluster.status());
    const [stopped, other] = pids.workers as [number, number];
    freeze(stopped);
    const frozenAt = performance.now();

    const killed = await cluster.waitForLog((l) => l.msg === 'worker hung: killing it' && l.workerPid === stopped, 15_000);
    expect(String(killed.reason)).toMatch(/^no heartbeat for \d+ ms/);
    await expect.poll(() => alive(stopped), { timeout: 10_000, interval: 10 }).toBe(false);
    await expect
      .poll(async () => (await cluster.status()).workers.filter((w) => w.state === 'ready').map((w) => w.pid).sort(), { timeout: 15_000, interval: 10 })
      .toEqual(expect.arrayContaining([other]));
    await expect.poll(async () => (await cluster.status()).workers.filter((w) => w.state === 'ready').length, { timeout: 15_000, interval: 10 }).toBe(2);
    await annotate(`replacement ready ${Math.round(performance.now() - frozenAt)} ms after SIGSTOP (--worker-timeout 1000)`);
    const status = await cluster.status();
    expect(status.workers.map((w) => w.pid)).toContain(other);
    expect(status.workers.map((w) => w.pid)).not.toContain(stopped);
    expect(status.restarts).toBe(1);
    expect((await getOnce(cluster.port, '/after')).status).toBe(200);
  });
});
