import type http from 'node:http';
import type net from 'node:net';

/** One connection as the worker's `Connections` tracks it. */
export interface Tracked {
  readonly id: number;
  /** The socket node:http serves: for TLS, the raw socket until the handshake ends, then the TLS socket over it. */
  socket: net.Socket;
  /** Never handed back (TLS: its state lives in this process); closed when idle once the worker leaves. */
  readonly pinned: boolean;
  requests: number;
  finished: number;
  /** Responses not finished yet, so that a drain can mark them `Connection: close`. */
  readonly open: http.ServerResponse[];
  /** Bytes replayed into the parser before the socket's own (read by the monitor). */
  readonly replayed: number;
  /** Sweep tick at which the connection was last seen going idle; -1 while busy. */
  idleTick: number;
  /** When (performance.now()) it was last seen going idle; -1 if not since its last request. */
  idleAt: number;
  bytesAtIdle: number;
  gone: boolean;
}

/** Settled: nothing in flight or unwritten, open both ways (public API only, so it holds with parking off). */
export function settled(t: Tracked): boolean {
  const s = t.socket;
  return !t.gone && t.requests === t.finished && s.writableLength === 0 && !s.destroyed && s.readable && s.writable;
}

/**
 * Without Node's list of connections between messages (parking off: an
 * internal is missing), a leaving worker closes a connection once no byte has
 * come from its client for this long after its last response: a client in a
 * burst sends its next request within milliseconds and is answered with
 * `Connection: close` instead, so the close cannot cut a request short unless
 * it is sent just as the close goes out, the race any keep-alive timeout has.
 */
const FALLBACK_IDLE_CLOSE_MS = 1000;

/**
 * Leaving without Node's list of connections between messages (parking off):
 * closes each connection whose client has sent nothing for
 * FALLBACK_IDLE_CLOSE_MS since its last response (or since it arrived).
 * A connection with a request under way is not settled, or has read bytes
 * since: it gets its response with `Connection: close`. Returns when the
 * next one is due (performance.now() time), Infinity if none is.
 */
export function closeQuiet(all: Iterable<Tracked>, now: number): number {
  let next = Infinity;
  for (const t of all) {
    // Replayed bytes are a request under way, though `bytesRead` does not count them.
    const underWay = t.requests === 0 && t.replayed > 0;
    if (t.idleAt < 0 || underWay || !settled(t) || t.socket.bytesRead !== t.bytesAtIdle) continue;
    const due = t.idleAt + FALLBACK_IDLE_CLOSE_MS;
    if (due <= now) t.socket.destroy();
    else next = Math.min(next, due);
  }
  return next;
}
