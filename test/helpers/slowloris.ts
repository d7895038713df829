import http from 'node:http';
import net from 'node:net';
import { setTimeout as pause } from 'node:timers/promises';

/** What one slow client saw. */
export interface SlowClient {
  readonly socket: net.Socket;
  /** Everything the server sent. */
  received: string;
  /** performance.now() of its first byte on the wire; null until connected. */
  firstByteAt: number | null;
  /** performance.now() of the server's close (end of stream or reset); null while open. */
  closedAt: number | null;
  bytesSent: number;
  /** A connect error: the client never got to send. */
  error: string | null;
}

/**
 * `count` slowloris clients: each connects, sends the first byte of a request
 * head, then one more byte every `dripMs` (from its own start), and never
 * ends the head. `head(i)` is what client i drips (it must not contain the
 * blank line that ends a head). One timer serves them all. Resolves once
 * every client has connected (or failed to); `closed` resolves once the
 * server has closed every one, `stop()` destroys those still open.
 */
export async function slowFlood(port: number, count: number, head: (i: number) => string, dripMs: number): Promise<{ clients: SlowClient[]; closed: Promise<void>; stop(): void }> {
  const clients: SlowClient[] = [];
  const closings: Promise<void>[] = [];
  const heads = Array.from({ length: count }, (_, i) => Buffer.from(head(i), 'latin1'));
  const drip = (c: SlowClient, i: number): void => {
    const bytes = heads[i]!;
    if (c.closedAt !== null || c.socket.destroyed || c.bytesSent >= bytes.length) return;
    c.socket.write(bytes.subarray(c.bytesSent, c.bytesSent + 1));
    c.bytesSent++;
  };
  await Promise.all(
    heads.map(
      (_, i) =>
        new Promise<void>((connected) => {
          const socket = net.connect(port, '127.0.0.1');
          const c: SlowClient = { socket, received: '', firstByteAt: null, closedAt: null, bytesSent: 0, error: null };
          clients[i] = c;
          socket.setNoDelay(true);
          socket.setEncoding('latin1');
          socket.on('data', (d: string) => (c.received += d));
          closings.push(
            new Promise((resolve) => {
              socket.on('close', () => {
                c.closedAt ??= performance.now();
                resolve();
                connected();
              });
            }),
          );
          // A reset after the server's answer is the server closing too; 'close' follows.
          socket.on('end', () => (c.closedAt ??= performance.now()));
          socket.on('error', (e) => {
            if (c.firstByteAt === null) c.error = e.message;
          });
          socket.once('connect', () => {
            c.firstByteAt = performance.now();
            drip(c, i);
            connected();
          });
        }),
    ),
  );
  const timer = setInterval(() => {
    const now = performance.now();
    clients.forEach((c, i) => {
      // Byte n is due n drip periods after the first: every client drips at its own pace.
      if (c.firstByteAt !== null && now - c.firstByteAt >= c.bytesSent * dripMs) drip(c, i);
    });
  }, Math.max(10, dripMs / 10));
  const closed = Promise.all(closings).then(() => clearInterval(timer));
  return {
    clients,
    closed,
    stop() {
      clearInterval(timer);
      for (const c of clients) c.socket.destroy();
    },
  };
}

/** The normal clients' requests while something else goes on: each status (or error), with its latency. */
export interface Paced {
  /** `at`: performance.now() when the answer (or the error) came. */
  readonly results: { readonly status: number | string; readonly ms: number; readonly at: number }[];
  /** Stops sending and waits for the requests in flight. */
  stop(): Promise<void>;
}

/**
 * `clients` normal clients, each sending GET `path` one after another with
 * `gapMs` between them (a new connection per request when `keepAlive` is
 * false), until `stop()`.
 */
export function pacedClients(port: number, clients: number, gapMs: number, path: string, keepAlive: boolean): Paced {
  const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: clients }) : false;
  const results: Paced['results'] = [];
  let running = true;
  const one = () =>
    new Promise<void>((resolve) => {
      const start = performance.now();
      http
        .get({ port, host: '127.0.0.1', path, agent }, (res) => {
          res.resume();
          res.on('end', () => {
            results.push({ status: res.statusCode ?? 0, ms: performance.now() - start, at: performance.now() });
            resolve();
          });
        })
        .on('error', (e) => {
          results.push({ status: e.message, ms: performance.now() - start, at: performance.now() });
          resolve();
        });
    });
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      await one();
      // Pacing the load, not waiting for anything: a normal client's think time.
      if (running) await pause(gapMs);
    }
  });
  return {
    results,
    async stop() {
      running = false;
      await Promise.all(loops);
      if (agent) agent.destroy();
    },
  };
}
