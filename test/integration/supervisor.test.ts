import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { alive, fixture, startCluster, type Cluster } from '../helpers/cluster.js';
import { keepAliveLoad } from '../helpers/load.js';
import { RawClient } from '../helpers/raw-client.js';
import { get as rawGet } from '../helpers/requests.js';

const app = fixture('supervisor-app.mjs');

async function get(cluster: Cluster, path = '/'): Promise<{ status: number; pid?: number }> {
  const res = await fetch(`http://127.0.0.1:${cluster.port}${path}`);
  const text = await res.text();
  return res.status === 200 ? { status: 200, pid: (JSON.parse(text) as { pid: number }).pid } : { status: res.status };
}

describe('supervision', () => {
  it('a crash loop ends in "errored": no more restarts, and new connections get 503 at once', async () => {
    const cluster = await startCluster(app, ['--workers', '1'], { env: { CRASH_AFTER_MS: '300' } });
    await expect.poll(async () => (await cluster.status()).pool.errored, { timeout: 20_000 }).toMatch(/in a row died within/);
    const status = await cluster.status();
    expect(status.workers).toHaveLength(0);
    expect(status.restarts).toBe(4); // the first worker and four restarts died young
    await cluster.waitForLog((l) => l.msg.startsWith('crash loop'));
    expect((await get(cluster)).status).toBe(503);
    // Scaling would only start more crashing workers: refused until a reload.
    const scale = await runCli(cluster.home, ['scale', status.name, '2']);
    expect(scale.code).toBe(1);
    expect(scale.stderr).toContain('crash loop');
    expect((await cluster.status()).workers).toHaveLength(0);
    await cluster.stop();
  });

  it('a reload brings an errored pool back to min', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocket-errored-'));
    const file = path.join(dir, 'app.mjs');
    fs.writeFileSync(file, "setTimeout(() => { throw new Error('crash at start'); }, 300);\nexport default (req, res) => res.end('broken');\n");
    try {
      const cluster = await startCluster(file, ['--workers', '1']);
      await expect.poll(async () => (await cluster.status()).pool.errored, { timeout: 20_000 }).not.toBeNull();
      fs.writeFileSync(file, "export default (req, res) => res.end('fixed');\n");
      cluster.child.kill('SIGHUP');
      await cluster.waitForLog((l) => l.msg === 'reload complete', 20_000);
      const status = await cluster.status();
      expect(status.pool.errored).toBeNull();
      expect(status.workers.filter((w) => w.state === 'ready')).toHaveLength(1);
      expect(await (await fetch(`http://127.0.0.1:${cluster.port}/`)).text()).toBe('fixed');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a worker whose event loop hangs is killed after --worker-timeout and replaced', async () => {
    const cluster = await startCluster(app, ['--workers', '1', '--worker-timeout', '1000']);
    const hung = (await cluster.status()).workers[0]!.pid!;
    const victim = await RawClient.connect(cluster.port);
    await victim.write(rawGet('/spin'));
    await victim.closedByServer(15_000); // the hung worker was killed with the connection
    await expect.poll(() => alive(hung), { timeout: 10_000 }).toBe(false);
    await expect.poll(async () => (await cluster.status()).workers.filter((w) => w.state === 'ready').length, { timeout: 15_000 }).toBe(1);
    const served = await get(cluster);
    expect(served.status).toBe(200);
    expect(served.pid).not.toBe(hung);
    expect((await cluster.status()).restarts).toBe(1);
  });

  it('--max-requests recycles workers under load with no failed request', async () => {
    const cluster = await startCluster(app, ['--workers', '2', '--max-requests', '200', '--max-requests-jitter', '50', '--no-access-log']);
    const first = new Set((await cluster.status()).workers.map((w) => w.pid));
    const traffic = keepAliveLoad(cluster.port, 20);
    await expect.poll(async () => (await cluster.status()).pool.recycled, { timeout: 20_000 }).toBeGreaterThanOrEqual(4);
    await traffic.stop();
    expect(traffic.counts.errors).toEqual([]);
    const now = (await cluster.status()).workers.map((w) => w.pid);
    expect(now.some((pid) => first.has(pid))).toBe(false);
    expect((await cluster.status()).restarts).toBe(0); // recycled, not crashed
  });

  it('--max-memory recycles a leaking worker with no failed request', async () => {
    const cluster = await startCluster(app, ['--workers', '1', '--max-memory', '150', '--no-access-log']);
    const leaky = (await cluster.status()).workers[0]!.pid!;
    const traffic = keepAliveLoad(cluster.port, 4, '/leak');
    await expect.poll(async () => (await cluster.status()).pool.recycled, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    await traffic.stop();
    expect(traffic.counts.errors).toEqual([]);
    await expect.poll(() => alive(leaky), { timeout: 10_000 }).toBe(false);
    await cluster.waitForLog((l) => l.msg === 'recycling worker' && String(l.reason).includes('--max-memory 150 MB'));
  });

  it('SIGKILL of a worker under load: failures at most its connections, and the pool is back to min', async () => {
    const cluster = await startCluster(app, ['--workers', '2', '--no-access-log']);
    const traffic = keepAliveLoad(cluster.port, 20);
    await expect.poll(() => traffic.counts.ok, { timeout: 10_000 }).toBeGreaterThan(500);
    const [victim] = (await cluster.status()).workers;
    process.kill(victim!.pid!, 'SIGKILL');
    await expect.poll(async () => (await cluster.status()).workers.filter((w) => w.state === 'ready' && w.pid !== victim!.pid).length, { timeout: 15_000 }).toBe(2);
    const before = traffic.counts.ok;
    await expect.poll(() => traffic.counts.ok, { timeout: 10_000 }).toBeGreaterThan(before + 200);
    await traffic.stop();
    // Each keep-alive connection has at most one request in flight; only those on the killed worker can fail.
    expect(traffic.counts.errors.length).toBeLessThanOrEqual(20);
    expect((await cluster.status()).restarts).toBe(1);
  });

  it('SIGTTIN adds a worker and SIGTTOU retires one, within the bounds', async () => {
    const cluster = await startCluster(app, ['--min-workers', '1', '--max-workers', '2', '--scale-down-after', '600000']);
    cluster.child.kill('SIGTTIN');
    await expect.poll(async () => (await cluster.status()).workers.filter((w) => w.state === 'ready').length, { timeout: 10_000 }).toBe(2);
    cluster.child.kill('SIGTTIN'); // at max: refused
    await cluster.waitForLog((l) => l.msg === 'pool size unchanged: at its bound');
    cluster.child.kill('SIGTTOU');
    await expect.poll(async () => (await cluster.status()).workers.length, { timeout: 10_000 }).toBe(1);
  });
});
