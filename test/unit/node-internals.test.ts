import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { closeHandle, handleOf, peerAddress, pendingWrite, socketFromHandle, takeHandle, type NativeHandle } from '../../src/shared/node-internals/handles.js';
import { detachFromHttp, hasParser, hasResponseInFlight } from '../../src/shared/node-internals/http-connection.js';
import { listenWithoutBinding, setLateLimits, socketsBetweenMessages } from '../../src/shared/node-internals/http-server.js';
import { acceptRawHandles } from '../../src/shared/node-internals/listen-handle.js';
import { interceptListen, type ClaimableServer } from '../../src/shared/node-internals/listen-intercept.js';
import { probeInternals } from '../../src/shared/node-internals/probe.js';
import { makeBlocking } from '../../src/shared/node-internals/stdout.js';
import { rawSocketOf } from '../../src/shared/node-internals/tls-socket.js';
import { RawClient } from '../helpers/raw-client.js';

// Contract tests: each Node internal that src/shared/node-internals/ wraps,
// on real loopback sockets, run on every Node version CI supports (.ci/run).

/** Promise.withResolvers, which Node 20 lacks. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;

/** A loopback listener whose accepted connections arrive as raw handles (the master's accept path). */
async function rawListener(onHandle: (handle: NativeHandle) => void): Promise<{ port: number; mode: 'raw' | 'sockets'; server: net.Server }> {
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => void server.close());
  const mode = acceptRawHandles(server, onHandle);
  return { port: (server.address() as AddressInfo).port, mode, server };
}

/** An http.Server that never binds, fed connections as the worker feeds them: raw handle, wrapped, emitted. */
async function worker(handler: http.RequestListener = (_req, res) => res.end('ok')): Promise<{ port: number; server: http.Server; sockets: net.Socket[] }> {
  const server = http.createServer(handler);
  const sockets: net.Socket[] = [];
  listenWithoutBinding(server, { host: '127.0.0.1', port: 0 }, () => {});
  await once(server, 'listening');
  const { port } = await rawListener((handle) => {
    const socket = socketFromHandle(handle);
    sockets.push(socket);
    server.emit('connection', socket);
  });
  onTestFinished(() => sockets.forEach((s) => s.destroy()));
  return { port, server, sockets };
}

async function client(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  onTestFinished(() => c.close());
  return c;
}

describe('handles.ts: a native handle taken, wrapped and closed', () => {
  it('takeHandle leaves the fd open: bytes flow both ways through the handle wrapped in a new socket', async () => {
    const taken = deferred<NativeHandle>();
    const { port } = await rawListener((h) => {
      const first = socketFromHandle(h);
      taken.resolve(takeHandle(first)!);
      expect(handleOf(first)).toBeNull();
      expect(first.destroyed).toBe(true);
    });
    const c = await client(port);
    const wrapped = socketFromHandle(await taken.promise);
    onTestFinished(() => void wrapped.destroy());
    await c.write('ping');
    const [data] = (await once(wrapped, 'data')) as [Buffer];
    expect(data.toString()).toBe('ping');
    wrapped.write('pong');
    await c.until(() => c.text === 'pong', 5000, 'pong');
  });

  it('pendingWrite counts what the peer has not taken yet', async () => {
    const accepted = deferred<net.Socket>();
    const { port } = await rawListener((h) => accepted.resolve(socketFromHandle(h)));
    const peer = net.connect(port, '127.0.0.1').pause(); // reads nothing: the kernel buffers fill up
    onTestFinished(() => void peer.destroy());
    const server = await accepted.promise;
    onTestFinished(() => void server.destroy());
    server.write(Buffer.alloc(16 * 1024 * 1024));
    expect(pendingWrite(server)).toBeGreaterThan(0);
    peer.resume(); // reads again: the queue drains
    await expect.poll(() => pendingWrite(server), { timeout: 10_000 }).toBe(0);
  });

  it('peerAddress reads the client address of a raw handle without reading from it, and none for a unix socket', async () => {
    const got = deferred<NativeHandle>();
    const { port } = await rawListener((h) => got.resolve(h));
    const c = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.3' });
    onTestFinished(() => void c.destroy());
    const handle = await got.promise;
    onTestFinished(() => closeHandle(handle));
    expect(peerAddress(handle)).toBe('127.0.0.3');
    c.write('ping');
    const wrapped = socketFromHandle(handle); // nothing was read: the bytes are still there
    const [data] = (await once(wrapped, 'data')) as [Buffer];
    expect(data.toString()).toBe('ping');
    const pipe = { readStart: () => 0, readStop: () => 0, close: () => {} } satisfies NativeHandle;
    expect(peerAddress(pipe)).toBeUndefined();
  });

  it('closeHandle on a closed handle is harmless', async () => {
    const got = deferred<NativeHandle>();
    const { port } = await rawListener((h) => got.resolve(h));
    await client(port);
    const handle = await got.promise;
    closeHandle(handle);
    expect(() => closeHandle(handle)).not.toThrow();
  });
});

describe('listen-handle.ts: the raw accept hook (onconnection)', () => {
  it('hands over a client handle that has read nothing', async () => {
    const got = deferred<NativeHandle>();
    const { port, mode } = await rawListener((h) => got.resolve(h));
    expect(mode).toBe('raw');
    const c = await client(port);
    await c.write('sent before anyone reads');
    const handle = await got.promise;
    expect(typeof handle.readStart).toBe('function');
    const socket = socketFromHandle(handle);
    onTestFinished(() => void socket.destroy());
    const [data] = (await once(socket, 'data')) as [Buffer];
    expect(data.toString()).toBe('sent before anyone reads');
  });

  it('falls back to paused sockets, losing no byte, on a Node whose listen handle has no onconnection', async () => {
    const server = net.createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => void server.close());
    // eslint-disable-next-line no-restricted-syntax -- simulates that Node: the hook is not ours to find
    const listenHandle = (server as unknown as { _handle: { onconnection?: unknown } })._handle;
    const onconnection = listenHandle.onconnection;
    delete listenHandle.onconnection;
    const got = deferred<NativeHandle>();
    expect(acceptRawHandles(server, (h) => got.resolve(h))).toBe('sockets');
    listenHandle.onconnection = onconnection; // Node's own accept, which now builds paused sockets
    const c = await client((server.address() as AddressInfo).port);
    await c.write('early bytes');
    const socket = socketFromHandle(await got.promise);
    onTestFinished(() => void socket.destroy());
    const [data] = (await once(socket, 'data')) as [Buffer];
    expect(data.toString()).toBe('early bytes');
  });
});

describe('http-server.ts: a server that never binds', () => {
  it('listenWithoutBinding: listening, address() answers the stand-in, close() reaches it', async () => {
    const server = http.createServer();
    const closed = vi.fn();
    expect(listenWithoutBinding(server, { host: '::1', port: 8123 }, closed)).toBe(true);
    await once(server, 'listening');
    expect(server.address()).toEqual({ address: '::1', family: 'IPv6', port: 8123 });
    server.close();
    expect(closed).toHaveBeenCalledOnce();
  });

  it('the stand-in listen makes the server enforce headersTimeout, checked at an interval set late', async () => {
    const server = http.createServer();
    setLateLimits(server, { maxHeaderSize: 16384, connectionsCheckingInterval: 50 });
    server.headersTimeout = 200;
    server.requestTimeout = 0;
    listenWithoutBinding(server, { host: '127.0.0.1', port: 0 }, () => {});
    await once(server, 'listening');
    const { port } = await rawListener((h) => server.emit('connection', socketFromHandle(h)));
    const slow = await client(port);
    await slow.write('GET / HTTP/1.1\r\nHo'); // a slowloris head, never finished
    await slow.closedByServer(5000); // Node's default check interval is 30 s: only the one set late is this fast
    expect(slow.text).toMatch(/^HTTP\/1\.1 408/);
  });

  it('maxHeaderSize set late answers 431 to a larger head', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    setLateLimits(server, { maxHeaderSize: 1024, connectionsCheckingInterval: 30_000 });
    listenWithoutBinding(server, { host: '127.0.0.1', port: 0 }, () => {});
    const { port } = await rawListener((h) => server.emit('connection', socketFromHandle(h)));
    const c = await client(port);
    await c.write(`GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(2048)}\r\n\r\n`);
    await c.closedByServer();
    expect(c.text).toMatch(/^HTTP\/1\.1 431/);
  });

  it('socketsBetweenMessages: a socket whose request was served shows, one mid-request does not', async () => {
    const { port, server, sockets } = await worker();
    const served = await client(port);
    await served.write(GET('/a'));
    await served.responses(1);
    const partial = await client(port);
    await partial.write('GET /b HTTP/1.1\r\nHo');
    await vi.waitFor(() => expect(sockets[1]?.bytesRead).toBeGreaterThan(0));
    await expect.poll(() => socketsBetweenMessages(server)?.has(sockets[0]!)).toBe(true);
    expect(socketsBetweenMessages(server)?.has(sockets[1]!)).toBe(false);
  });
});

describe('http-connection.ts: one connection of node:http', () => {
  it('hasResponseInFlight while the response is open, not once it finished', async () => {
    const seen: boolean[] = [];
    const { port } = await worker((req, res) => {
      seen.push(hasResponseInFlight(req.socket));
      res.on('finish', () => seen.push(hasResponseInFlight(req.socket)));
      res.end('ok');
    });
    const c = await client(port);
    await c.write(GET('/'));
    await c.responses(1);
    await vi.waitFor(() => expect(seen).toEqual([true, false]));
  });

  it('hasParser is false once the connection is upgraded', async () => {
    const { port, server } = await worker();
    const parserOnUpgrade = deferred<boolean>();
    server.on('upgrade', (_req, socket: net.Socket) => {
      parserOnUpgrade.resolve(hasParser(socket));
      socket.destroy();
    });
    const c = await client(port);
    await c.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n');
    expect(await parserOnUpgrade.promise).toBe(false);
  });

  it('detachFromHttp between requests: the parser lets go, and the next request, sent meanwhile, is served by another server on the same connection', async () => {
    const a = await worker((_req, res) => res.end('from a'));
    const c = await client(a.port);
    await c.write(GET('/1'));
    await c.responses(1);
    const socket = a.sockets[0]!;
    await expect.poll(() => socketsBetweenMessages(a.server)?.has(socket)).toBe(true);
    const handle = detachFromHttp(socket);
    expect(handle).not.toBeNull();
    expect(handleOf(socket)).toBeNull();
    await c.write(GET('/2')); // waits in the kernel buffer, read by nobody yet
    await vi.waitFor(() => expect(socketsBetweenMessages(a.server)?.has(socket)).toBe(false));
    const b = http.createServer((_req, res) => res.end('from b'));
    const moved = socketFromHandle(handle!);
    onTestFinished(() => void moved.destroy());
    b.emit('connection', moved);
    const responses = await c.responses(2);
    expect(responses.map((r) => r.body)).toEqual(['from a', 'from b']);
    expect(c.closed).toBe(false);
  });
});

describe('listen-intercept.ts', () => {
  it('gives the first http.Server listen to claim, unbound, and lets a raw net.Server bind', async () => {
    const claimed: ClaimableServer[] = [];
    const callback = () => {};
    const restore = interceptListen((server, cb) => {
      expect(cb).toBe(callback);
      claimed.push(server);
      return true;
    });
    onTestFinished(restore);
    const app = http.createServer();
    expect(app.listen(0, callback)).toBe(app);
    expect(claimed).toEqual([app]);
    expect(app.address()).toBeNull();
    const raw = net.createServer().listen(0, '127.0.0.1');
    onTestFinished(() => void raw.close());
    await once(raw, 'listening');
    expect((raw.address() as AddressInfo).port).toBeGreaterThan(0);
  });

  it('claims an https.Server and an http2 secure server too (they terminate TLS themselves), not a plain net.Server', () => {
    const claimed: ClaimableServer[] = [];
    const restore = interceptListen((server) => {
      claimed.push(server);
      return true;
    });
    onTestFinished(restore);
    const secure = https.createServer();
    const h2 = http2.createSecureServer();
    expect(secure.listen(0)).toBe(secure);
    expect(h2.listen(0)).toBe(h2);
    expect(claimed).toEqual([secure, h2]);
  });
});

describe('tls-socket.ts', () => {
  it('rawSocketOf finds the socket a tls.Server was given in the TLS socket it emits', async () => {
    const pem = (name: string) => fs.readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url));
    const front = tls.createServer({ cert: pem('cert.pem'), key: pem('key.pem') });
    const outer = net.createServer((raw) => front.emit('connection', raw));
    await new Promise<void>((resolve) => outer.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => void outer.close());
    const given = once(outer, 'connection') as Promise<[net.Socket]>;
    const secured = once(front, 'secureConnection') as Promise<[tls.TLSSocket]>;
    const client = tls.connect({ port: (outer.address() as AddressInfo).port, host: '127.0.0.1', rejectUnauthorized: false });
    onTestFinished(() => void client.destroy());
    const [[raw], [socket]] = await Promise.all([given, secured]);
    expect(rawSocketOf(socket)).toBe(raw);
  });
});

describe('stdout.ts', () => {
  it('makeBlocking makes a pipe blocking, and what is written through it arrives whole', async () => {
    // The reader counts what it gets: a write to a blocking pipe waits for it, so it must not wait on us.
    const count = 'let n = 0; process.stdin.on("data", (d) => (n += d.length)).on("end", () => process.stdout.write(String(n)))';
    const child = spawn(process.execPath, ['-e', count], { stdio: ['pipe', 'pipe', 'inherit'] });
    onTestFinished(() => void child.kill());
    expect(makeBlocking(child.stdin as net.Socket)).toBe(true);
    let answer = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (answer += d));
    child.stdin.end(Buffer.alloc(1024 * 1024, 'x'));
    await once(child, 'close'); // after its stdout is drained, unlike 'exit'
    expect(answer).toBe(String(1024 * 1024));
  });
});

describe('probe.ts', () => {
  const resources = () => process.getActiveResourcesInfo().filter((r) => /Pipe|TCP/.test(r)).length;

  it('passes on this Node and leaves no handle behind', async () => {
    const { server } = await worker();
    const before = resources();
    expect(probeInternals(server)).toEqual({ ok: true });
    await expect.poll(resources).toBe(before);
  });

  it('names the connection list when its idle() is gone, as on a Node that renamed it', async () => {
    const { server } = await worker();
    const key = Object.getOwnPropertySymbols(server).find((s) => s.description === 'http.server.connections')!;
    const proto = Object.getPrototypeOf((server as unknown as Record<symbol, object>)[key]) as { idle?: unknown };
    const idle = proto.idle;
    delete proto.idle;
    onTestFinished(() => void (proto.idle = idle));
    const result = probeInternals(server);
    expect(result).toMatchObject({ ok: false, missing: 'http.Server[Symbol(http.server.connections)].idle' });
  });

  it('names the listen stand-in on a server that never listened', () => {
    expect(probeInternals(http.createServer())).toMatchObject({ ok: false, missing: 'net.Server#_listen2' });
  });
});
