import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { launch, type LogLine } from './children.js';

// Connections to a TLS port that never finish their handshake
// (bench/handshake-flood.ts): startFlood() opens them in this process,
// floodInChild() in a process of their own (bench/tls-flood-child.ts).

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'tls-flood-child.js');

/** `silent`: connect and send nothing; `partial-hello`: the first 48 bytes of a ClientHello that announces 517. */
export type FloodVariant = 'silent' | 'partial-hello';
export const FLOOD_VARIANTS: readonly FloodVariant[] = ['silent', 'partial-hello'];

/**
 * A TLS 1.2+ ClientHello cut short: the record header announces 512 bytes of
 * handshake, the handshake header 508 of ClientHello, and only the version,
 * the 32 random bytes and the start of a session id follow, so the server's TLS
 * parser waits for the rest, which never comes.
 */
export function partialClientHello(): Buffer {
  return Buffer.concat([
    Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), // record: handshake, TLS 1.0 record version, 512 bytes
    Buffer.from([0x01, 0x00, 0x01, 0xfc]), // handshake: ClientHello, 508 bytes
    Buffer.from([0x03, 0x03]), // client_version TLS 1.2
    randomBytes(32),
    Buffer.from([0x20]), // session id length 32, and the first 4 of those bytes
    randomBytes(4),
  ]);
}

/** A flood socket the server had not closed by the deadline (the client then destroyed it). */
export const STILL_OPEN = 'still open at the deadline';

/** One flood socket's life, ms after the flood began. */
export interface FloodSocket {
  readonly connectedAt: number | null;
  readonly closedAt: number | null;
  /** `end`: the server closed it (FIN); an error code (ECONNRESET...); or STILL_OPEN. */
  readonly how: string;
  readonly bytesReceived: number;
}

export interface Flood {
  /** performance.now() when the first connect was started. */
  readonly startedAt: number;
  /** Resolves when every socket is connected or failed to connect. */
  readonly connected: Promise<void>;
  /** Resolves when every socket is closed, or at `deadline` (performance.now()), when the ones left are destroyed and counted `open`. */
  readonly closed: Promise<readonly FloodSocket[]>;
  /** Sockets connected and not yet closed. */
  openNow(): number;
}

export function startFlood(port: number, count: number, variant: FloodVariant, deadline: () => number): Flood {
  const startedAt = performance.now();
  const since = () => performance.now() - startedAt;
  const records: { connectedAt: number | null; closedAt: number | null; how: string; bytesReceived: number }[] = [];
  const sockets: net.Socket[] = [];
  const connects: Promise<void>[] = [];
  const closes: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const rec = { connectedAt: null as number | null, closedAt: null as number | null, how: 'open', bytesReceived: 0 };
    records.push(rec);
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    let error: string | undefined;
    socket.on('data', (d: Buffer) => (rec.bytesReceived += d.length));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    connects.push(
      new Promise((resolve) => {
        socket.once('connect', () => {
          rec.connectedAt = since();
          if (variant === 'partial-hello') socket.write(partialClientHello());
          resolve();
        });
        socket.once('close', () => resolve());
      }),
    );
    closes.push(
      new Promise((resolve) =>
        socket.once('close', () => {
          if (rec.how === 'open') {
            rec.closedAt = since();
            rec.how = error ?? 'end';
          }
          resolve();
        }),
      ),
    );
  }
  const allClosed = Promise.all(closes);
  const closed = (async () => {
    // Until every socket closed, or the deadline (which the caller may move once all are connected).
    let done = false;
    void allClosed.then(() => (done = true));
    while (!done && performance.now() < deadline()) await sleep(50);
    for (let i = 0; i < sockets.length; i++) {
      const rec = records[i]!;
      // Marked before destroy(), so that the close handler does not count it as closed by the server.
      if (rec.how === 'open') rec.how = STILL_OPEN;
      sockets[i]!.destroy();
    }
    await allClosed;
    return records;
  })();
  return {
    startedAt,
    connected: Promise.all(connects).then(() => undefined),
    closed,
    openNow: () => records.filter((r) => r.connectedAt !== null && r.how === 'open').length,
  };
}

/** A flood run by tls-flood-child.js, its times on this process's performance.now() clock. */
export interface ChildFlood {
  /** When every socket had connected (or failed, or the connect timeout passed), how many were open then, and when the first connect began (socket times are relative to it). */
  readonly connected: Promise<{ readonly startedAt: number; readonly at: number; readonly open: number }>;
  /** Every socket's life; the child is stopped before this resolves. */
  readonly closed: Promise<readonly FloodSocket[]>;
}

/**
 * The flood in a child process, so that opening and watching `count` sockets
 * does not stall the event loop that times the plain requests. The child's
 * times are absolute (timeOrigin + now) and converted here; both processes
 * read the same clock.
 */
export function floodInChild(port: number, count: number, variant: FloodVariant, connectTimeoutMs: number, closeWaitMs: number): ChildFlood {
  const child = launch('tls flood', [CHILD, String(port), String(count), variant, String(connectTimeoutMs), String(closeWaitMs)]);
  const local = (abs: unknown): number => Number(abs) - performance.timeOrigin;
  const limit = connectTimeoutMs + closeWaitMs + 10_000;
  // Both waiters from the start: a line that arrives before its waiter would be missed.
  const connected = child.waitForLine((l) => l.msg === 'connected', limit);
  const closed = child.waitForLine((l) => l.msg === 'closed', limit);
  return {
    connected: connected.then((l) => ({ startedAt: local(l.startedAt), at: local(l.at), open: Number(l.open) })),
    closed: closed.finally(() => child.stop()).then((l: LogLine) => l.sockets as FloodSocket[]),
  };
}
