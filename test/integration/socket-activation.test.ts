import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeFd } from '../../src/master/proc-sockets.js';
import { fixture, launch, type Launched } from '../helpers/cluster.js';
import { onCleanup } from '../helpers/cleanup.js';
import { listeningSocket, notifyReceiver, unixActivator } from '../helpers/systemd.js';

/** The TCP addresses `pid` listens on, from /proc: what it bound, or holds. */
function listeningTcp(pid: number): string[] {
  const found = new Set<string>();
  for (const entry of fs.readdirSync(`/proc/${pid}/fd`)) {
    const s = describeFd(Number(entry), `/proc/${pid}`);
    if (s.kind === 'tcp' && s.listening) found.add(`${s.host}:${s.port}`);
  }
  return [...found];
}

const listening = (master: Launched) => master.waitForLog((l) => l.role === 'master' && l.msg === 'listening');

describe.each(['workers', 'master'] as const)('socket activation, --accept %s', (accept) => {
  it('serves the socket systemd passed as fd 3 and binds nothing; no child sees LISTEN_*', async () => {
    const socket = await listeningSocket();
    const receiver = await notifyReceiver(`/tmp/rc-notify-${process.pid}-${Date.now()}.sock`); // a path, not abstract
    const master = launch(['start', fixture('env-app.mjs'), '--accept', accept, '--workers', '2'], {
      passFds: [socket.fd],
      env: { LISTEN_FDS: '1', LISTEN_FDNAMES: 'rocket-cluster.socket', NOTIFY_SOCKET: receiver.address, WATCHDOG_USEC: undefined },
    });
    socket.close(); // the master holds it now; the test must not accept on it too

    const ready = await receiver.next((m) => m.vars.get('READY') === '1');
    expect(ready.message.vars.get('STATUS')).toContain(`listening 127.0.0.1:${socket.port}`);
    // No --listen was given: the passed socket is what the cluster serves, instead of the default 127.0.0.1:8080.
    const shown = await listening(master);
    expect(shown.address).toBe(`127.0.0.1:${socket.port}`);
    expect(shown.accept).toBe(accept);
    const adopted = await master.waitForLog((l) => l.msg.startsWith('socket activation'));
    expect(adopted.sockets).toEqual([`fd 3 (127.0.0.1:${socket.port}, rocket-cluster.socket)`]);

    const answers = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const res = await fetch(`http://127.0.0.1:${socket.port}/`, { headers: { connection: 'close' } });
        return (await res.json()) as { pid: number; env: Record<string, string | null> };
      }),
    );
    for (const { env } of answers) expect(env).toEqual({ LISTEN_PID: null, LISTEN_FDS: null, LISTEN_FDNAMES: null, NOTIFY_SOCKET: null, WATCHDOG_USEC: null, WATCHDOG_PID: null });
    expect(listeningTcp(master.pid)).toEqual([`127.0.0.1:${socket.port}`]);

    expect(await master.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});

/** GET / over a unix socket. */
function getUnix(socketPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ socketPath, path: '/', headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

describe.each(['workers', 'master'] as const)('socket activation of a unix socket, --accept %s', (accept) => {
  it('serves it at --listen unix:PATH, bound by the service manager, and leaves the file in place', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-activate-'));
    onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'app.sock');
    const master = launch(['start', fixture('env-app.mjs'), '--accept', accept, '--listen', `unix:${file}`], { wrap: unixActivator(file, 'web') });
    const shown = await listening(master);
    expect(shown).toMatchObject({ address: `unix:${file}`, accept });
    const adopted = await master.waitForLog((l) => l.msg.startsWith('socket activation'));
    expect(adopted.sockets).toEqual([`fd 3 (unix:${file}, web)`]);
    for (let i = 0; i < 4; i++) expect(await getUnix(file)).toBe(200);
    expect(listeningTcp(master.pid)).toEqual([]);
    expect(await master.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    // The master did not bind it, so it does not remove it: the socket unit owns the path.
    expect(fs.statSync(file).isSocket()).toBe(true);
  });
});

describe('socket activation with --listen given', () => {
  it('pairs each address with the passed socket on its port, whatever their order', async () => {
    const [first, second] = [await listeningSocket(), await listeningSocket()];
    const master = launch(['start', fixture('env-app.mjs'), '--listen', `127.0.0.1:${second.port}`, '--listen', `127.0.0.1:${first.port}`], {
      passFds: [first.fd, second.fd],
      env: { LISTEN_FDS: '2' },
    });
    first.close();
    second.close();
    await master.waitForLog((l) => l.msg === 'listening' && l.address === `127.0.0.1:${first.port}`);
    // In --listen order: the second passed socket serves the first address.
    expect(master.logs.filter((l) => l.msg === 'listening').map((l) => l.address)).toEqual([`127.0.0.1:${second.port}`, `127.0.0.1:${first.port}`]);
    for (const port of [first.port, second.port]) expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    expect(listeningTcp(master.pid).sort()).toEqual([`127.0.0.1:${first.port}`, `127.0.0.1:${second.port}`].sort());
    expect(await master.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('fails to start, naming the address, when no passed socket fits a --listen address', async () => {
    const socket = await listeningSocket();
    const master = launch(['start', fixture('env-app.mjs'), '--listen', '127.0.0.1:1'], { passFds: [socket.fd], env: { LISTEN_FDS: '1' } });
    socket.close();
    expect((await master.finished).code).toBe(1);
    expect(master.stderr()).toContain(`socket activation: no passed socket is 127.0.0.1:1 (passed: fd 3 (127.0.0.1:${socket.port}))`);
  });
});
