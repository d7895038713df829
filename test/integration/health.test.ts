import { describe, expect, it } from 'vitest';
import { fixture, startCluster } from '../helpers/cluster.js';

const ECHO = fixture('echo.mjs');

async function probe(adminUrl: string, path: '/healthz' | '/readyz'): Promise<{ status: number; body: string }> {
  const res = await fetch(`${adminUrl}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('health for orchestrators', () => {
  it('/healthz and /readyz answer 200 on a running cluster', async () => {
    const cluster = await startCluster(ECHO, ['--workers', '2']);
    expect(await probe(cluster.adminUrl, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
    expect(await probe(cluster.adminUrl, '/readyz')).toEqual({ status: 200, body: 'ready\n' });
    expect((await cluster.stop()).code).toBe(0);
  });

  it('--shutdown-delay: after SIGTERM /readyz answers 503 at once while requests are still accepted and served, then the stop completes', async () => {
    const cluster = await startCluster(ECHO, ['--workers', '1', '--shutdown-delay', '3000']);
    cluster.child.kill('SIGTERM');
    await expect.poll(async () => (await probe(cluster.adminUrl, '/readyz')).status).toBe(503);
    expect((await probe(cluster.adminUrl, '/readyz')).body).toBe('not ready: stopping\n');
    expect((await probe(cluster.adminUrl, '/healthz')).status).toBe(200);
    // New connections during the delay are accepted and served as before.
    const during = await Promise.all(Array.from({ length: 10 }, (_, i) => fetch(`http://127.0.0.1:${cluster.port}/during/${i}`)));
    expect(during.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(cluster.logs.some((l) => l.msg === 'stopping')).toBe(false);
    const exit = await cluster.finished;
    expect(exit.code).toBe(0);
    expect(cluster.logs.some((l) => l.msg === 'stopping')).toBe(true);
  });

  it('/readyz answers 503 with the reason for a crash-looping pool; /healthz still 200', async () => {
    const cluster = await startCluster(fixture('supervisor-app.mjs'), ['--workers', '1'], { env: { CRASH_AFTER_MS: '300' } });
    await expect.poll(async () => (await cluster.status()).pool.errored, { timeout: 20_000 }).toMatch(/in a row died within/);
    const ready = await probe(cluster.adminUrl, '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatch(/^not ready: errored: .*in a row died within/);
    expect((await probe(cluster.adminUrl, '/healthz')).status).toBe(200);
    await cluster.stop();
  });
});
