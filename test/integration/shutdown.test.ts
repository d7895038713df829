import { describe, expect, it } from 'vitest';
import { alive, fixture, startCluster, type Cluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';
import { get } from '../helpers/requests.js';

/** Pids of every child: workers and the monitor. */
async function childPids(cluster: Cluster): Promise<number[]> {
  const status = await cluster.status();
  const pids = [...status.workers.map((w) => w.pid), status.monitor.pid].filter((p): p is number => p !== null);
  expect(pids).toHaveLength(status.workers.length + 1);
  return pids;
}

async function expectAllGone(pids: readonly number[]): Promise<void> {
  for (const pid of pids) await expect.poll(() => alive(pid), { timeout: 10_000, interval: 50 }).toBe(false);
}

/** Cleanup when a test failed: children the harness cannot reach (it only kills masters). */
function killLeft(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A keep-alive connection that has had one answered request and now sits idle. */
async function idleConnection(cluster: Cluster): Promise<RawClient> {
  const client = await RawClient.connect(cluster.port);
  await client.write(get('/idle'));
  const [res] = await client.responses(1);
  expect(res?.status).toBe(200);
  expect(res?.headers.connection).not.toBe('close');
  return client;
}

describe('stopping', () => {
  it('SIGTERM: an in-flight request completes with Connection: close, an idle keep-alive connection is closed, exit 0, no child left', async () => {
    // Parking off: the idle connection stays in its worker, the case a worker's drain must handle.
    const cluster = await startCluster(fixture('limits-app.mjs'), ['--workers', '2', '--park-after', '0']);
    const children = await childPids(cluster);
    const idle = await idleConnection(cluster);
    const busy = await RawClient.connect(cluster.port);
    try {
      await busy.write(get('/slow?ms=1500'));
      await cluster.waitForLog((l) => l.msg === 'slow request started');

      const exit = cluster.stop('SIGTERM');
      await idle.closedByServer();
      const [res] = await busy.responses(1);
      expect(res?.status).toBe(200);
      expect(JSON.parse(res!.body)).toMatchObject({ url: '/slow?ms=1500' });
      // Soft: the rest of the shutdown is still checked when this fails.
      expect.soft(res?.headers.connection).toBe('close');
      await busy.closedByServer();

      expect(await exit).toEqual({ code: 0, signal: null });
      await expectAllGone(children);
    } finally {
      idle.close();
      busy.close();
      killLeft(children);
    }
  });

  it('SIGTERM: a keep-alive connection parked in the monitor is closed, exit 0, no child left', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '1', '--park-when', 'idle', '--park-after', '100']);
    const children = await childPids(cluster);
    const idle = await idleConnection(cluster);
    try {
      await expect.poll(async () => (await cluster.status()).parked.count, { timeout: 10_000, interval: 25 }).toBe(1);
      const exit = cluster.stop('SIGTERM');
      await idle.closedByServer();
      expect(idle.text).not.toMatch(/HTTP\/1\.1 [45]\d\d /); // closed, not answered with an error
      expect(await exit).toEqual({ code: 0, signal: null });
      await expectAllGone(children);
    } finally {
      idle.close();
      killLeft(children);
    }
  });

  it('SIGKILL of the master: every worker and the monitor exit on their own', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '2', '--park-after', '0']);
    const children = await childPids(cluster);
    // An open keep-alive connection must not keep its worker alive without a master.
    const idle = await idleConnection(cluster);
    try {
      expect(await cluster.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
      await expectAllGone(children);
      await idle.closedByServer();
    } finally {
      idle.close();
      killLeft(children);
    }
  });
});

describe('a signal to the whole process group (Ctrl-C in a terminal, systemd)', () => {
  it('still lets an in-flight request finish and exits 0', async () => {
    // Its own process group, like a shell job (the group is killed if the test fails).
    const cluster = await startCluster(fixture('limits-app.mjs'), ['--workers', '1'], { detached: true });
    const client = await RawClient.connect(cluster.port);
    try {
      await client.write(get('/slow?ms=800'));
      await cluster.waitForLog((l) => l.msg === 'slow request started');
      process.kill(-cluster.pid, 'SIGINT');
      const [res] = await client.responses(1);
      expect(res!.status).toBe(200);
      expect(res!.headers.connection).toBe('close');
      expect((await cluster.exited).code).toBe(0);
    } finally {
      client.close();
    }
  });
});
