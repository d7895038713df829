import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { keepAliveLoad } from '../helpers/load.js';
import { RawClient } from '../helpers/raw-client.js';
import { get } from '../helpers/requests.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocket-reload-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** An app whose answer names its version, so a test sees which code served. */
function writeApp(name: string, version: string, startDelayMs = 0): string {
  const file = path.join(dir, name);
  fs.writeFileSync(
    file,
    `${startDelayMs > 0 ? `await new Promise((r) => setTimeout(r, ${startDelayMs}));\n` : ''}` +
      `export default (req, res) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ version: '${version}', pid: process.pid })); };\n`,
  );
  return file;
}

async function reload(cluster: Cluster, generation: number): Promise<void> {
  cluster.child.kill('SIGHUP');
  await cluster.waitForLog((l) => l.msg === 'reload complete' && l.generation === generation, 30_000);
}

describe('rolling reload (SIGHUP)', () => {
  it('3 reloads under load from 50 keep-alive connections: no failed request, no reset, new code serves', async () => {
    const app = writeApp('app.mjs', 'v1');
    const cluster = await startCluster(app, ['--workers', '2', '--no-access-log']);
    const traffic = keepAliveLoad(cluster.port, 50);
    await expect.poll(() => traffic.counts.ok, { timeout: 10_000 }).toBeGreaterThan(500);
    for (const generation of [2, 3, 4]) {
      writeApp('app.mjs', `v${generation}`);
      const before = traffic.counts.ok;
      await reload(cluster, generation);
      await expect.poll(() => traffic.counts.ok, { timeout: 10_000 }).toBeGreaterThan(before + 500);
    }
    await traffic.stop();
    expect(traffic.counts.errors).toEqual([]);
    // Keep-alive held: far fewer connections than requests.
    expect(traffic.counts.sockets.size).toBeLessThanOrEqual(50);
    const status = await cluster.status();
    expect(status.workers.map((w) => w.generation)).toEqual([4, 4]);
    const res = await fetch(`http://127.0.0.1:${cluster.port}/`);
    expect(await res.json()).toMatchObject({ version: 'v4' });
  });

  it('a keep-alive connection idle in an old worker is handed back, not closed, and its next request is served on the same socket', async () => {
    const app = writeApp('idle.mjs', 'v1');
    // Parking is far off: the idle connection stays in its worker until the reload retires it.
    const cluster = await startCluster(app, ['--workers', '1', '--park-when', 'idle', '--park-after', '60000', '--keep-alive-timeout', '120000']);
    const client = await RawClient.connect(cluster.port);
    await client.write(get('/before'));
    const [first] = await client.responses(1);
    expect(JSON.parse(first!.body)).toMatchObject({ version: 'v1' });
    writeApp('idle.mjs', 'v2');
    await reload(cluster, 2);
    expect(client.closed).toBe(false);
    expect((await cluster.status()).parked.count).toBe(1); // retired worker parked it
    await client.write(get('/after'));
    const responses = await client.responses(2);
    expect(JSON.parse(responses[1]!.body)).toMatchObject({ version: 'v2' });
    expect(client.closed).toBe(false);
    client.close();
  });

  it('a reload to an app that no longer loads is aborted and the old workers keep serving', async () => {
    const app = writeApp('broken.mjs', 'v1');
    const cluster = await startCluster(app, ['--workers', '2']);
    const before = (await cluster.status()).workers.map((w) => w.pid);
    fs.writeFileSync(app, 'export default (req, res) => { this is not javascript');
    cluster.child.kill('SIGHUP');
    const aborted = await cluster.waitForLog((l) => l.msg.startsWith('reload aborted'));
    expect(aborted.msg).toContain('broken.mjs');
    // The new worker that failed is gone; the old ones are still there.
    await expect.poll(async () => (await cluster.status()).workers.map((w) => w.pid), { timeout: 10_000 }).toEqual(before);
    const status = await cluster.status();
    expect(status.workers.every((w) => w.state === 'ready' && w.generation === 1)).toBe(true);
    const res = await fetch(`http://127.0.0.1:${cluster.port}/`);
    expect(await res.json()).toMatchObject({ version: 'v1' });
  });

  it('a reload whose new worker exits before it is ready is aborted: the dead worker is not restarted, nor counted toward a crash loop', async () => {
    const app = writeApp('exits.mjs', 'v1');
    const cluster = await startCluster(app, ['--workers', '2']);
    const before = (await cluster.status()).workers.map((w) => w.pid);
    fs.writeFileSync(app, 'process.exit(1);\n');
    for (let attempt = 1; attempt <= 2; attempt++) {
      const aborted = cluster.waitForLog((l) => l.msg.startsWith('reload aborted') && cluster.logs.filter((x) => x.msg.startsWith('reload aborted')).length === attempt);
      cluster.child.kill('SIGHUP');
      await aborted;
      await expect.poll(async () => (await cluster.status()).workers.map((w) => w.pid), { timeout: 10_000 }).toEqual(before);
    }
    const status = await cluster.status();
    expect(status.pool.errored).toBeNull();
    expect(status.restarts).toBe(0);
    expect(status.workers.every((w) => w.state === 'ready' && w.generation === 1)).toBe(true);
    expect((await fetch(`http://127.0.0.1:${cluster.port}/`)).status).toBe(200);
  });

  it('refuses a second reload while one is running', async () => {
    const app = writeApp('slow-start.mjs', 'v1', 800);
    const cluster = await startCluster(app, ['--workers', '1']);
    cluster.child.kill('SIGHUP');
    await cluster.waitForLog((l) => l.msg === 'reload started');
    cluster.child.kill('SIGHUP');
    await cluster.waitForLog((l) => l.msg === 'reload refused: a reload is running');
    await cluster.waitForLog((l) => l.msg === 'reload complete' && l.generation === 2, 30_000);
    expect(cluster.logs.filter((l) => l.msg === 'reload started')).toHaveLength(1);
    // The behaviour, not only the log: one reload happened, so one new generation.
    const status = await cluster.status();
    expect(status.generation).toBe(2);
    expect(status.workers.map((w) => w.generation)).toEqual([2]);
  });
});
