import { describe, expect, it, onTestFinished } from 'vitest';
import { fixture, startCluster, type Cluster, type LogLine } from '../helpers/cluster.js';
import { keepAliveLoad } from '../helpers/load.js';
import { RawClient } from '../helpers/raw-client.js';

// The fixture app breaks, before the worker's probe runs, the Node internal
// parking needs most (the http server's list of idle connections), the way a
// Node release that renamed it would. The worker must notice, say so once,
// keep serving, and still retire without being killed.
const APP = fixture('internals-broken.mjs');
const INTERNAL = 'http.Server[Symbol(http.server.connections)].idle';
const KILLED = 'retiring worker did not finish in time: killing it';

async function start(args: readonly string[]): Promise<Cluster> {
  const cluster = await startCluster(APP, ['--no-access-log', ...args]);
  onTestFinished(async () => void (await cluster.stop('SIGKILL')));
  return cluster;
}

const probeErrors = (cluster: Cluster): LogLine[] => cluster.logs.filter((l) => l.role === 'worker' && l.level >= 50);

describe('a Node internal missing at worker start (probe fails)', () => {
  it('one error naming it per worker, /status shows parking off with the reason, requests are served, idle connections stay under Node’s keep-alive timeout', async () => {
    const cluster = await start(['--workers', '2', '--park-when', 'idle', '--park-after', '200', '--keep-alive-timeout', '1500']);
    await expect.poll(async () => (await cluster.status()).workers.filter((w) => w.parking !== null).length).toBe(2);
    const status = await cluster.status();
    for (const w of status.workers) {
      expect(w.parking?.enabled).toBe(false);
      expect(w.parking?.reason).toContain(INTERNAL);
    }
    await expect.poll(() => probeErrors(cluster).map((l) => l.pid).sort()).toEqual(status.workers.map((w) => w.pid).sort());
    const errors = probeErrors(cluster);
    for (const e of errors) {
      expect(e.internal).toBe(INTERNAL);
      expect(e.msg).toContain(INTERNAL);
    }

    const res = await fetch(`http://127.0.0.1:${cluster.port}/hello`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ url: '/hello' });

    // Idle far past --park-after: not parked; Node's own keep-alive timer closes it.
    const client = await RawClient.connect(cluster.port);
    onTestFinished(() => client.close());
    await client.write('GET /idle HTTP/1.1\r\nHost: t\r\n\r\n');
    const [first] = await client.responses(1);
    expect(first!.headers['keep-alive']).toBe('timeout=1');
    await client.closedByServer(10_000);
    const after = await cluster.status();
    expect(after.connections.parks).toBe(0);
    expect(after.parked.count).toBe(0);
  });

  it('a reload under keep-alive load completes with no failed request and no worker killed at the drain timeout; an idle connection is closed, not parked', async () => {
    // A drain timeout far above the test's own deadline: a kill there would fail the test by time as well as by log.
    const cluster = await start(['--workers', '2', '--drain-timeout', '120000']);
    const idle = await RawClient.connect(cluster.port);
    onTestFinished(() => idle.close());
    await idle.write('GET /idle HTTP/1.1\r\nHost: t\r\n\r\n');
    await idle.responses(1);
    const traffic = keepAliveLoad(cluster.port, 20);
    onTestFinished(() => traffic.stop());
    await expect.poll(() => traffic.counts.ok, { timeout: 10_000 }).toBeGreaterThan(300);
    const before = (await cluster.status()).workers.map((w) => w.pid);

    cluster.child.kill('SIGHUP');
    await cluster.waitForLog((l) => l.msg === 'reload complete' && l.generation === 2, 30_000);
    const okAtReload = traffic.counts.ok;
    await expect.poll(() => traffic.counts.ok, { timeout: 10_000 }).toBeGreaterThan(okAtReload + 300);
    await traffic.stop();

    expect(traffic.counts.errors).toEqual([]);
    expect(cluster.logs.filter((l) => l.msg === KILLED)).toEqual([]);
    await idle.closedByServer(); // gracefully, between requests: it got its response, then a FIN
    const status = await cluster.status();
    expect(status.workers.map((w) => w.pid).some((pid) => before.includes(pid))).toBe(false);
    expect(status.workers.every((w) => w.generation === 2 && w.parking?.enabled === false)).toBe(true);
    expect(status.connections.parks).toBe(0);
    // The new workers hit the same missing internal: one error each, none more.
    await expect.poll(() => probeErrors(cluster).length).toBe(4);
    expect(new Set(probeErrors(cluster).map((l) => l.pid)).size).toBe(4);

    // A shutdown needs no list either: the workers close their connections and exit on their own.
    const exit = await cluster.stop('SIGTERM');
    expect(exit.code).toBe(0);
    expect(cluster.logs.some((l) => l.msg === 'shutdown timeout: killing what is left')).toBe(false);
  });
});
