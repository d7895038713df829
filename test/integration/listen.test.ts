import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, launch, startCluster } from '../helpers/cluster.js';
import { get } from '../helpers/requests.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocket-listen-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function getOver(connect: () => net.Socket): Promise<string> {
  const socket = connect();
  await once(socket, 'connect');
  socket.end(get('/over', 'Connection: close'));
  let data = '';
  socket.setEncoding('latin1').on('data', (d: string) => (data += d));
  await once(socket, 'close');
  return data;
}

describe('listening', () => {
  it('serves on every --listen address: IPv4, IPv6 and a unix socket', async () => {
    const sock = path.join(dir, 'app.sock');
    const cluster = await startCluster(fixture('echo.mjs'), ['--listen', '[::1]:0', '--listen', `unix:${sock}`]);
    await cluster.waitForLog((l) => l.msg === 'listening' && String(l.address).startsWith('unix:'));
    const bound = cluster.logs.filter((l) => l.role === 'master' && l.msg === 'listening').map((l) => String(l.address));
    expect(bound).toHaveLength(3);
    expect(bound[0]).toMatch(/^127\.0\.0\.1:\d+$/);
    const v6Port = Number(bound[1]!.match(/^\[::1\]:(\d+)$/)![1]);
    expect(bound[2]).toBe(`unix:${sock}`);
    expect(await getOver(() => net.connect(cluster.port, '127.0.0.1'))).toContain('"url":"/over"');
    expect(await getOver(() => net.connect(v6Port, '::1'))).toContain('"url":"/over"');
    expect(await getOver(() => net.connect(sock))).toContain('"url":"/over"');
    expect((await cluster.stop()).code).toBe(0);
    expect(fs.existsSync(sock)).toBe(false);
  });

  it('binds nothing and exits 1 naming the address when one address is taken', async () => {
    const taken = net.createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const takenPort = (taken.address() as net.AddressInfo).port;
    const free = net.createServer().listen(0, '127.0.0.1');
    await once(free, 'listening');
    const freePort = (free.address() as net.AddressInfo).port;
    free.close();
    await once(free, 'close');
    try {
      const master = launch(['start', fixture('echo.mjs'), '--listen', `127.0.0.1:${freePort}`, '--listen', `127.0.0.1:${takenPort}`]);
      expect((await master.finished).code).toBe(1);
      const out = master.stdout();
      expect(out).toContain('RC_ERR_LISTEN_BIND');
      expect(out).toContain(`127.0.0.1:${takenPort}`);
      expect(out).not.toContain('"msg":"listening"');
      // The first address was bound, then released: it is free again.
      const probe = net.createServer().listen(freePort, '127.0.0.1');
      await once(probe, 'listening');
      probe.close();
    } finally {
      taken.close();
    }
  });

  it('rejects a malformed address with a usage error (exit 2) naming it', async () => {
    const master = launch(['start', fixture('echo.mjs'), '--listen', 'localhost']);
    expect((await master.finished).code).toBe(2);
    expect(master.stderr()).toContain('--listen "localhost"');
  });
});
