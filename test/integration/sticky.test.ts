import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { onCleanup } from '../helpers/cleanup.js';
import { runCli } from '../helpers/cli.js';
import { fixture, startCluster, type Cluster } from '../helpers/cluster.js';

// --sticky ip with a real socket.io server (test/fixtures/socketio-app.mjs) and
// real socket.io clients on the HTTP long-polling transport, each bound to its
// own loopback address (127.0.0.2, 127.0.0.3, …): engine.io keeps a session in
// the memory of the worker that handshook it, so a polling request that reaches
// another worker is answered 400 "Session ID unknown". Idle keep-alive
// connections park after PARK_AFTER ms (--park-when idle) and come back through
// the master's queue when the client sends again.

const PARK_AFTER = 150;
const ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7'];

interface Client {
  readonly address: string;
  readonly socket: Socket;
  /** Errors of the transport: `400` is engine.io's "Session ID unknown" (the request reached a worker without the session). */
  readonly errors: string[];
  /** Times it connected (a new session each time). */
  connects: number;
  whoami(): Promise<number>;
}

/** A socket.io client whose every connection comes from `address` (an http.Agent with localAddress, passed to engine.io's XMLHttpRequest). */
function client(port: number, address: string): Client {
  const agent = new http.Agent({ keepAlive: true, localAddress: address });
  const socket = io(`http://127.0.0.1:${port}`, {
    transports: ['polling'],
    forceNew: true,
    reconnectionDelay: 50,
    reconnectionDelayMax: 200,
    agent: agent as unknown as string, // typed for browsers; engine.io-client passes it to xmlhttprequest-ssl, which passes it to http.request
  });
  const c: Client = {
    address,
    socket,
    errors: [],
    connects: 0,
    async whoami() {
      const answer = (await socket.timeout(10_000).emitWithAck('whoami')) as { pid: number };
      return answer.pid;
    },
  };
  socket.io.on('error', (e: Error & { description?: unknown }) => c.errors.push(String(e.description ?? e.message)));
  socket.on('connect', () => c.connects++);
  onCleanup(() => {
    socket.close();
    agent.destroy();
  });
  return c;
}

/** Every client's worker, by asking it. */
async function homes(clients: readonly Client[]): Promise<number[]> {
  return Promise.all(clients.map((c) => c.whoami()));
}

/** Resolves once the cluster has parked more than `after` connections in all, and woken one since. */
async function parkedSince(cluster: Cluster, after: number): Promise<void> {
  await expect.poll(async () => (await cluster.status()).connections.parks, { timeout: 10_000, interval: 25 }).toBeGreaterThan(after);
}

function sessionUnknown(clients: readonly Client[]): string[] {
  return clients.flatMap((c) => c.errors.filter((e) => e === '400').map(() => c.address));
}

/** A cluster of 3 workers running the socket.io app, and a client from each address in ADDRESSES, connected. */
async function start(args: readonly string[]): Promise<{ cluster: Cluster; clients: Client[] }> {
  const cluster = await startCluster(fixture('socketio-app.mjs'), ['--workers', '3', '--park-when', 'idle', '--park-after', String(PARK_AFTER), ...args]);
  const clients = ADDRESSES.map((address) => client(cluster.port, address));
  await expect.poll(() => clients.every((c) => c.connects === 1), { timeout: 10_000, interval: 10 }).toBe(true);
  return { cluster, clients };
}

describe('--sticky ip: socket.io long-polling across 3 workers', () => {
  it('every request of a client, new or woken from the monitor, reaches the worker that holds its session', async () => {
    const { cluster, clients } = await start(['--sticky', 'ip']);
    expect((await cluster.status()).connections.accept).toBe('master');
    const first = await homes(clients);
    expect(new Set(first).size).toBeGreaterThan(1); // the clients are spread over the workers
    for (let round = 0; round < 3; round++) {
      const { parks, wakes } = (await cluster.status()).connections;
      await parkedSince(cluster, parks + clients.length - 1); // the clients' idle connections went to the monitor
      expect(await homes(clients)).toEqual(first);
      expect((await cluster.status()).connections.wakes).toBeGreaterThan(wakes); // and came back through the queue
    }
    expect(sessionUnknown(clients)).toEqual([]);
    expect(clients.map((c) => c.connects)).toEqual(clients.map(() => 1)); // no session was lost and made again
    expect((await cluster.status()).connections.sticky).toEqual({ addresses: ADDRESSES.length, moved: 0 });
  });

  it('when a worker dies, its clients move together to one other worker; the others stay where they are', async () => {
    const { cluster, clients } = await start(['--sticky', 'ip']);
    const first = await homes(clients);
    const counts = new Map<number, number>();
    for (const pid of first) counts.set(pid, (counts.get(pid) ?? 0) + 1);
    const victim = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    const moving = clients.filter((_c, i) => first[i] === victim);
    const staying = clients.filter((_c, i) => first[i] !== victim);
    process.kill(victim, 'SIGKILL');
    // Their sessions died with it: each client makes a new one, on the heir.
    await expect.poll(() => moving.every((c) => c.connects >= 2), { timeout: 20_000, interval: 25 }).toBe(true);
    const after = await homes(moving);
    expect(new Set(after).size).toBe(1);
    expect(after[0]).not.toBe(victim);
    expect(await homes(staying)).toEqual(first.filter((pid) => pid !== victim));
    expect(sessionUnknown(staying)).toEqual([]);
    expect(staying.map((c) => c.connects)).toEqual(staying.map(() => 1));
    expect((await cluster.status()).connections.sticky).toEqual({ addresses: ADDRESSES.length, moved: moving.length });
  });

  it('a scale-down moves the retired worker’s clients together to one other worker; the others stay where they are', async () => {
    const { cluster, clients } = await start(['--sticky', 'ip']);
    const first = await homes(clients);
    const before = new Set((await cluster.status()).workers.map((w) => w.pid));
    expect((await runCli(cluster.home, ['scale', 'socketio-app', '2'])).code).toBe(0);
    await expect.poll(async () => (await cluster.status()).workers.length, { timeout: 30_000, interval: 50 }).toBe(2);
    const remaining = new Set((await cluster.status()).workers.map((w) => w.pid));
    const retired = [...before].find((pid) => !remaining.has(pid));
    const moving = clients.filter((_c, i) => first[i] === retired);
    const staying = clients.filter((_c, i) => first[i] !== retired);
    expect(moving.length).toBeGreaterThan(0);
    await expect.poll(() => moving.every((c) => c.connects >= 2), { timeout: 20_000, interval: 25 }).toBe(true);
    const after = await homes(moving);
    expect(new Set(after).size).toBe(1);
    expect(remaining.has(after[0]!)).toBe(true);
    expect(await homes(staying)).toEqual(first.filter((pid) => pid !== retired));
    expect(sessionUnknown(staying)).toEqual([]);
    expect(staying.map((c) => c.connects)).toEqual(staying.map(() => 1));
  });

  it('a reload moves each old worker’s clients together to one new worker', async () => {
    const { cluster, clients } = await start(['--sticky', 'ip']);
    const first = await homes(clients);
    const connects = clients.map((c) => c.connects);
    cluster.child.kill('SIGHUP');
    await cluster.waitForLog((l) => l.msg === 'reload complete', 60_000);
    // Every session lived in an old worker: each client makes a new one.
    await expect.poll(() => clients.every((c, i) => c.connects > connects[i]!), { timeout: 20_000, interval: 25 }).toBe(true);
    const after = await homes(clients);
    const old = new Set(first);
    for (const pid of after) expect(old.has(pid)).toBe(false);
    for (const pid of old) expect(new Set(after.filter((_p, i) => first[i] === pid)).size).toBe(1);
  });

  it('without it, polling requests reach workers without the session: 400 "Session ID unknown"', async () => {
    // The default accept path: workers accept new connections themselves, and the master's queue
    // sends overflow and woken connections to the least-loaded worker, not the session's.
    const cluster = await startCluster(fixture('socketio-app.mjs'), ['--workers', '3', '--park-when', 'idle', '--park-after', String(PARK_AFTER)]);
    const clients = ADDRESSES.map((address) => client(cluster.port, address));
    await expect.poll(() => sessionUnknown(clients).length, { timeout: 20_000, interval: 25 }).toBeGreaterThan(0);
  });
});
