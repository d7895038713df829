import { once } from 'node:events';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, launch, parkedAndHeld, whenListening, type Cluster } from '../helpers/cluster.js';
import { get } from '../helpers/requests.js';

const TLS_DIR = fixture('tls');
const pem = (name: string) => path.join(TLS_DIR, name);
const CA = fs.readFileSync(pem('cert.pem'));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocket-tls-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The `listening` addresses a cluster logged, in --listen order. */
async function addresses(cluster: Cluster, count: number): Promise<string[]> {
  await expect.poll(() => cluster.logs.filter((l) => l.role === 'master' && l.msg === 'listening').length).toBe(count);
  return cluster.logs.filter((l) => l.role === 'master' && l.msg === 'listening').map((l) => String(l.address));
}

const portOf = (address: string) => Number(address.split(':').pop());

/** A TLS connection that trusts the test certificate; resolves once the handshake is done. */
async function tlsConnect(port: number, options: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: CA, ...options });
  await once(socket, 'secureConnect');
  return socket;
}

/** Sends requests one at a time on one socket and collects each response (the echo fixture answers JSON, keep-alive). */
async function requestsOn(socket: net.Socket, paths: readonly string[]): Promise<string[]> {
  const answers: string[] = [];
  let buffer = '';
  socket.setEncoding('latin1');
  for (const p of paths) {
    socket.write(get(p));
    const answer = await new Promise<string>((resolve, reject) => {
      const onData = (d: string) => {
        buffer += d;
        const end = buffer.indexOf('}');
        if (buffer.includes('\r\n\r\n') && end >= 0) {
          socket.off('data', onData);
          const whole = buffer.slice(0, end + 1);
          buffer = buffer.slice(end + 1);
          resolve(whole);
        }
      };
      socket.on('data', onData);
      socket.once('close', () => reject(new Error(`closed before the answer to ${p}: ${buffer}`)));
    });
    answers.push(answer);
  }
  return answers;
}

/** What a connection gets: its bytes and whether the server closed it (resolves on close). */
async function untilClosed(socket: net.Socket): Promise<string> {
  let data = '';
  socket.setEncoding('latin1').on('data', (d: string) => (data += d));
  socket.on('error', () => {});
  await once(socket, 'close');
  return data;
}

function start(app: string, args: readonly string[]): Promise<Cluster> {
  return whenListening(launch(['start', app, '--admin', '127.0.0.1:0', ...args]));
}

describe('TLS terminated in the workers', () => {
  it('serves https:// and plain addresses side by side, keep-alive over TLS, and never parks a TLS connection', async () => {
    const cluster = await start(fixture('echo.mjs'), [
      ...['--workers', '2', '--listen', '127.0.0.1:0', '--listen', 'https://127.0.0.1:0'],
      ...['--tls-cert', pem('cert.pem'), '--tls-key', pem('key.pem'), '--park-when', 'idle', '--park-after', '100'],
    ]);
    const [plain, secure] = await addresses(cluster, 2);
    expect(plain).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(secure).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const tlsSocket = await tlsConnect(portOf(secure!));
    expect(tlsSocket.authorized).toBe(true);
    const first = await requestsOn(tlsSocket, ['/s1', '/s2']);
    expect(first.map((a) => a.match(/"url":"([^"]+)"/)?.[1])).toEqual(['/s1', '/s2']);
    expect(first.every((a) => a.startsWith('HTTP/1.1 200'))).toBe(true);

    // A plain connection idle past --park-after parks; the TLS one, idle as long, stays in its worker.
    const plainSocket = net.connect(portOf(plain!), '127.0.0.1');
    await once(plainSocket, 'connect');
    await requestsOn(plainSocket, ['/p1']);
    await parkedAndHeld(cluster, 1);
    const again = await requestsOn(tlsSocket, ['/s3']);
    expect(again[0]).toContain('"url":"/s3"');
    const status = await cluster.status();
    expect(status.connections.parks).toBe(1);
    expect(await requestsOn(plainSocket, ['/p2'])).toHaveLength(1);
    tlsSocket.destroy();
    plainSocket.destroy();
    expect((await cluster.stop()).code).toBe(0);
  });

  it('closes plain HTTP sent to a TLS port, and a handshake that never completes, and keeps serving', async () => {
    const cluster = await start(fixture('echo.mjs'), [
      ...['--workers', '1', '--listen', 'https://127.0.0.1:0', '--headers-timeout', '1000'],
      ...['--tls-cert', pem('cert.pem'), '--tls-key', pem('key.pem')],
    ]);
    const [secure] = await addresses(cluster, 1);
    const port = portOf(secure!);

    const plainText = net.connect(port, '127.0.0.1');
    plainText.write(get('/plain'));
    expect(await untilClosed(plainText)).not.toContain('"url"');

    // Connects and sends nothing: the worker gives the handshake --headers-timeout, then closes it.
    const silent = net.connect(port, '127.0.0.1');
    const halfHello = net.connect(port, '127.0.0.1', () => halfHello.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])));
    await Promise.all([untilClosed(silent), untilClosed(halfHello)]);

    const socket = await tlsConnect(port);
    expect((await requestsOn(socket, ['/after']))[0]).toContain('"url":"/after"');
    // A client that leaves right after its handshake is forgotten too: nothing stays counted against the worker.
    socket.destroy();
    const early = await tlsConnect(port);
    early.destroy();
    await expect.poll(async () => (await cluster.status()).workers.map((w) => w.connections)).toEqual([0]);
    expect((await cluster.stop()).code).toBe(0);
  });

  it('1000 connections that never finish a handshake do not stop plain traffic, and all are closed', async () => {
    const cluster = await start(fixture('echo.mjs'), [
      ...['--workers', '2', '--listen', '127.0.0.1:0', '--listen', 'https://127.0.0.1:0', '--headers-timeout', '2000'],
      ...['--tls-cert', pem('cert.pem'), '--tls-key', pem('key.pem')],
    ]);
    const [plain, secure] = await addresses(cluster, 2);
    const flood: net.Socket[] = [];
    const closed: Promise<unknown>[] = [];
    for (let i = 0; i < 1000; i++) {
      const s = net.connect(portOf(secure!), '127.0.0.1');
      s.on('error', () => {});
      closed.push(once(s, 'close'));
      flood.push(s);
    }
    await Promise.all(flood.map((s) => once(s, 'connect')));
    // While every one of them waits in a worker's handshake: plain requests are all served.
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => fetch(`http://${plain}/during/${i}`).then((r) => r.status)));
    expect(answers.every((status) => status === 200)).toBe(true);
    await Promise.all(closed);
    // And TLS serves again once the flood is gone.
    const socket = await tlsConnect(portOf(secure!));
    expect((await requestsOn(socket, ['/after-flood']))[0]).toContain('"url":"/after-flood"');
    socket.destroy();
    expect((await cluster.stop()).code).toBe(0);
  });

  it('an unmodified https.createServer().listen(8443) script runs on 2 workers, on the cluster address, with its own certificate', async () => {
    const cluster = await start(fixture('https-app.cjs'), ['--workers', '2', '--listen', '127.0.0.1:0']);
    const [address] = await addresses(cluster, 1);
    const status = await cluster.status();
    expect(status.workers.filter((w) => w.state === 'ready')).toHaveLength(2);
    const pids = new Set(status.workers.map((w) => w.pid));
    for (let i = 0; i < 6; i++) {
      const socket = await tlsConnect(portOf(address!));
      const [answer] = await requestsOn(socket, [`/r${i}`]);
      const body = JSON.parse(answer!.slice(answer!.indexOf('{'))) as { pid: number; encrypted: boolean; url: string };
      expect(body).toMatchObject({ encrypted: true, url: `/r${i}` });
      expect(pids.has(body.pid)).toBe(true);
      socket.destroy();
    }
    // Nothing bound 8443: the script's own port is not used.
    const probe = net.createServer();
    await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(8443, '127.0.0.1', resolve));
    probe.close();
    expect((await cluster.stop()).code).toBe(0);
  });

  it('an unmodified http2.createSecureServer script answers HTTP/2, and HTTP/1.1 by ALPN', async () => {
    const cluster = await start(fixture('http2-app.cjs'), ['--workers', '2', '--listen', '127.0.0.1:0']);
    const [address] = await addresses(cluster, 1);
    const client = http2.connect(`https://localhost:${portOf(address!)}`, { ca: CA });
    const stream = client.request({ ':path': '/h2' });
    let body = '';
    stream.setEncoding('utf8').on('data', (d: string) => (body += d));
    await once(stream, 'end');
    client.close();
    expect(JSON.parse(body)).toMatchObject({ url: '/h2', httpVersion: '2.0' });

    const h1 = await tlsConnect(portOf(address!), { ALPNProtocols: ['http/1.1'] });
    expect(h1.alpnProtocol).toBe('http/1.1');
    expect((await requestsOn(h1, ['/h1']))[0]).toContain('"httpVersion":"1.1"');
    h1.destroy();
    expect((await cluster.stop()).code).toBe(0);
  });

  it('--http2: a client offering h2 gets HTTP/2 from an ordinary (req, res) app, one that does not gets HTTP/1.1; a reload sends open sessions a GOAWAY and loses no request', async () => {
    const tlsArgs = ['--listen', 'https://127.0.0.1:0', '--tls-cert', pem('cert.pem'), '--tls-key', pem('key.pem')];
    const cluster = await start(fixture('echo.mjs'), ['--workers', '2', ...tlsArgs, '--http2']);
    const [address] = await addresses(cluster, 1);
    const port = portOf(address!);
    const h2get = async (session: http2.ClientHttp2Session, p: string): Promise<{ status: number; body: string }> => {
      const stream = session.request({ ':path': p });
      let body = '';
      let status = 0;
      stream.on('response', (headers) => (status = Number(headers[':status'])));
      stream.setEncoding('utf8').on('data', (d: string) => (body += d));
      await once(stream, 'end');
      return { status, body };
    };
    const client = http2.connect(`https://localhost:${port}`, { ca: CA });
    const answers = await Promise.all(['/a', '/b', '/c'].map((p) => h2get(client, p)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.map((a) => (JSON.parse(a.body) as { url: string }).url)).toEqual(['/a', '/b', '/c']);
    expect(client.alpnProtocol).toBe('h2');

    const h1 = await tlsConnect(port, { ALPNProtocols: ['http/1.1'] });
    expect(h1.alpnProtocol).toBe('http/1.1');
    expect((await requestsOn(h1, ['/h1']))[0]).toContain('"url":"/h1"');
    h1.destroy();
    // HTTP/2 requests are counted and logged as HTTP/1.1 ones are.
    await expect.poll(async () => (await cluster.status()).workers.reduce((n, w) => n + w.served, 0)).toBeGreaterThanOrEqual(4);
    await expect.poll(() => cluster.logs.filter((l) => l.msg === 'request' && l.path === '/b').length).toBe(1);

    // A reload: the open session is told to go away (GOAWAY) and closes once quiet; a new one is served by a new worker.
    const goaway = once(client, 'goaway');
    cluster.child.kill('SIGHUP');
    await cluster.waitForLog((l) => l.msg === 'reload complete', 30_000);
    await goaway;
    const next = http2.connect(`https://localhost:${port}`, { ca: CA });
    expect((await h2get(next, '/after')).status).toBe(200);
    next.close();
    client.close();
    expect((await cluster.stop()).code).toBe(0);
  });

  it('without --http2 a client offering h2 gets HTTP/1.1; --http2 without an https:// address exits 2', async () => {
    const cluster = await start(fixture('echo.mjs'), ['--workers', '1', '--listen', 'https://127.0.0.1:0', '--tls-cert', pem('cert.pem'), '--tls-key', pem('key.pem')]);
    const [address] = await addresses(cluster, 1);
    const socket = await tlsConnect(portOf(address!), { ALPNProtocols: ['h2', 'http/1.1'] });
    expect(socket.alpnProtocol).toBe('http/1.1');
    socket.destroy();
    expect((await cluster.stop()).code).toBe(0);
    const plain = launch(['start', fixture('echo.mjs'), '--listen', '127.0.0.1:0', '--http2']);
    expect((await plain.exited).code).toBe(2);
    expect(plain.stderr()).toContain('--http2 true needs an https:// listen address');
  });

  it('reload serves a renewed certificate; a bad one is refused, naming the file, and the old workers keep serving', async () => {
    const certDir = fs.mkdtempSync(path.join(dir, 'certs-'));
    const cert = path.join(certDir, 'cert.pem');
    const key = path.join(certDir, 'key.pem');
    fs.copyFileSync(pem('cert.pem'), cert);
    fs.copyFileSync(pem('key.pem'), key);
    const cluster = await start(fixture('echo.mjs'), ['--workers', '1', '--listen', 'https://127.0.0.1:0', '--tls-cert', cert, '--tls-key', key]);
    const port = portOf((await addresses(cluster, 1))[0]!);
    const subject = async () => {
      const socket = await tlsConnect(port, { ca: [CA, fs.readFileSync(pem('other-cert.pem'))] });
      const cn = socket.getPeerCertificate().subject.CN;
      socket.destroy();
      return cn;
    };
    expect(await subject()).toBe('localhost');

    fs.copyFileSync(pem('other-cert.pem'), cert);
    fs.copyFileSync(pem('other-key.pem'), key);
    cluster.child.kill('SIGHUP');
    await cluster.waitForLog((l) => l.msg === 'reload complete' && l.generation === 2, 20_000);
    expect(await subject()).toBe('renewed.localhost');

    fs.copyFileSync(pem('garbage-cert.pem'), cert);
    cluster.child.kill('SIGHUP');
    const refused = await cluster.waitForLog((l) => l.msg.startsWith('reload refused'));
    expect(refused.msg).toContain(cert);
    expect(refused.code).toBe('RC_ERR_CONFIG_TLS');
    expect(await subject()).toBe('renewed.localhost');
    expect((await cluster.stop()).code).toBe(0);
  });

  it.each([
    ['a certificate that is not one', ['--tls-cert', pem('garbage-cert.pem'), '--tls-key', pem('key.pem')], pem('garbage-cert.pem')],
    ['a key that does not match', ['--tls-cert', pem('cert.pem'), '--tls-key', pem('other-key.pem')], pem('other-key.pem')],
    ['an encrypted key without its passphrase', ['--tls-cert', pem('cert.pem'), '--tls-key', pem('encrypted-key.pem')], pem('encrypted-key.pem')],
    ['a missing file', ['--tls-cert', pem('nope.pem'), '--tls-key', pem('key.pem')], pem('nope.pem')],
  ])('refuses to start with %s: exit 2, the file named, nothing bound', async (_case, flags, culprit) => {
    const master = launch(['start', fixture('echo.mjs'), '--workers', '1', '--listen', 'https://127.0.0.1:0', ...flags]);
    const exit = await master.finished;
    expect(exit.code).toBe(2);
    expect(master.stderr()).toContain(culprit);
    expect(master.stderr()).toContain('--tls-');
    expect(master.logs.filter((l) => l.msg === 'listening')).toHaveLength(0);
  });

  it('starts with an encrypted key and its passphrase from ROCKET_TLS_PASSPHRASE', async () => {
    const cluster = await whenListening(
      launch(['start', fixture('echo.mjs'), '--admin', '127.0.0.1:0', '--workers', '1', '--listen', 'https://127.0.0.1:0', '--tls-cert', pem('cert.pem'), '--tls-key', pem('encrypted-key.pem')], {
        env: { ROCKET_TLS_PASSPHRASE: 's3cret' },
      }),
    );
    const socket = await tlsConnect(portOf((await addresses(cluster, 1))[0]!));
    expect((await requestsOn(socket, ['/enc']))[0]).toContain('"url":"/enc"');
    socket.destroy();
    expect((await cluster.stop()).code).toBe(0);
  });
});
