import fs from 'node:fs';
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { fixture, startCluster } from '../helpers/cluster.js';

/** One request on its own connection (`Connection: close`); resolves with the serving worker's pid. */
function getClosed(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve((JSON.parse(body) as { pid: number }).pid));
    });
    req.on('error', reject);
  });
}

describe('--accept workers (the default)', () => {
  it('regression: once a worker accepts, the master accepts no new connection (it did, when a worker lent its copy back before the master had its accept path)', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '2']);
    // The master polls its listener between bind and the first worker's copy coming back.
    await expect.poll(async () => (await cluster.status()).connections.masterAccepting, { timeout: 10_000 }).toBe(false);
    const before = (await cluster.status()).connections;
    expect(before.accept).toBe('workers');
    const pids = new Set<number>();
    for (let i = 0; i < 40; i++) pids.add(await getClosed(cluster.port));
    const after = (await cluster.status()).connections;
    expect(after.accepted).toBe(before.accepted); // the master took none of the 40
    await expect.poll(async () => (await cluster.status()).connections.acceptedByWorkers - before.acceptedByWorkers, { timeout: 10_000 }).toBe(40);
    expect(pids.size).toBeGreaterThanOrEqual(1);
    // Every request was answered by one of the cluster's own workers.
    const workerPids = (await cluster.status()).workers.map((w) => w.pid);
    for (const pid of pids) expect(workerPids).toContain(pid);
  });

  it('with --accept master, the master accepts every connection and workers accept none', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '2', '--accept', 'master']);
    for (let i = 0; i < 10; i++) await getClosed(cluster.port);
    const c = (await cluster.status()).connections;
    expect(c).toMatchObject({ accept: 'master', masterAccepting: true, accepted: 10, acceptedByWorkers: 0, dispatched: 10 });
  });

  it('serves a unix socket listener through the workers, and removes its path on stop', async () => {
    const dir = fs.mkdtempSync('/tmp/rc-accept-');
    const sock = `${dir}/app.sock`;
    try {
      const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '2', '--listen', `unix:${sock}`]);
      const pid = await new Promise<number>((resolve, reject) => {
        const req = http.get({ socketPath: sock, path: '/', agent: false, headers: { connection: 'close' } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve((JSON.parse(body) as { pid: number }).pid));
        });
        req.on('error', reject);
      });
      expect((await cluster.status()).workers.map((w) => w.pid)).toContain(pid);
      expect((await cluster.stop()).code).toBe(0);
      expect(fs.existsSync(sock)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
