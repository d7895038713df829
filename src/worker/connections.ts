import type http from 'node:http';
import type net from 'node:net';
import { closeHandle, type NativeHandle } from '../shared/handles.js';
import { countMessages, detachFromHttp, hasParser, pendingWrite, type MessageCounters } from './http-internals.js';

interface Tracked extends MessageCounters {
  readonly id: number;
  readonly socket: net.Socket;
  requests: number;
  finished: number;
  /** Responses not finished yet, so that a drain can mark them `Connection: close`. */
  readonly open: http.ServerResponse[];
  /** Sweep tick at which the connection was last seen going idle; -1 while busy. */
  idleTick: number;
  bytesAtIdle: number;
  gone: boolean;
}

const kTracked = Symbol('rocket-cluster.connection');
type TrackedSocket = net.Socket & { [kTracked]?: Tracked };

export interface ConnectionEvents {
  /** The connection left this worker as a handle; the callee owns it. */
  park(id: number, handle: NativeHandle): void;
  /** A connection left (`connections`), or only the number of requests served changed (`served`). */
  change(what: 'connections' | 'served'): void;
}

/** Sweeps per park-after period: a connection parks after 1 to 1.5 times park-after of idleness. */
const SWEEPS_PER_PARK = 2;

/**
 * The worker's connections: counts them, sees when one sits idle between
 * requests, and after `parkAfter` ms hands it back instead of holding it.
 * Idleness is found by one periodic sweep, not a timer per connection, so a
 * request costs no timer work (it matters most for one-request connections).
 * Idle means all of: every message begun has completed (no byte of a next
 * request has been read), every request has its response finished, nothing is
 * left to write, no byte arrived since the idle period began, and the socket
 * still belongs to http (an upgraded one never leaves its worker).
 */
export class Connections {
  readonly #parkAfter: number;
  readonly #events: ConnectionEvents;
  readonly #all = new Set<Tracked>();
  #served = 0;
  #received = 0;
  #tick = 0;
  #draining = false;

  constructor(parkAfter: number, events: ConnectionEvents) {
    this.#parkAfter = parkAfter;
    this.#events = events;
    if (parkAfter > 0) setInterval(() => this.#sweep(), Math.max(1, parkAfter / SWEEPS_PER_PARK)).unref();
  }

  get active(): number {
    return this.#all.size;
  }

  get served(): number {
    return this.#served;
  }

  /** Connections adopted since start; the master counts what it sent against this. */
  get received(): number {
    return this.#received;
  }

  /** Tracks a socket the http server has just been given. */
  adopt(socket: net.Socket, id: number): void {
    const t: Tracked = { id, socket, begun: 0, completed: 0, requests: 0, finished: 0, open: [], idleTick: -1, bytesAtIdle: 0, gone: false };
    (socket as TrackedSocket)[kTracked] = t;
    countMessages(socket, t);
    this.#all.add(t);
    this.#received++;
    socket.once('close', () => this.#forget(t));
    // A connection that never sends a request is idle from the start.
    this.#maybeIdle(t);
  }

  /** Server 'request' hook, run before the app's handler. */
  onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const t = (req.socket as TrackedSocket)[kTracked];
    this.#served++;
    if (this.#draining) res.shouldKeepAlive = false;
    if (!t) return;
    t.requests++;
    t.open.push(res);
    res.once('finish', () => {
      t.finished++;
      t.open.splice(t.open.indexOf(res), 1);
      this.#events.change('served');
      this.#maybeIdle(t);
    });
  }

  /**
   * From now on every response closes its connection (`Connection: close`), and
   * idle connections close now. `change` reports when the last one is gone.
   */
  drain(): void {
    this.#draining = true;
    for (const t of this.#all) {
      if (this.#isIdle(t)) t.socket.destroy();
      // In flight already: tell the client not to send another request on this connection.
      else for (const res of t.open) if (!res.headersSent) res.shouldKeepAlive = false;
    }
  }

  #isIdle(t: Tracked): boolean {
    const s = t.socket as net.Socket & { _httpMessage?: unknown };
    return (
      !t.gone &&
      t.begun === t.completed &&
      t.requests === t.finished &&
      !s._httpMessage &&
      pendingWrite(s) === 0 &&
      hasParser(s) &&
      !s.destroyed &&
      s.readable &&
      s.writable
    );
  }

  #maybeIdle(t: Tracked): void {
    if (!this.#isIdle(t)) return;
    if (this.#draining) {
      t.socket.destroy();
      return;
    }
    t.idleTick = this.#tick;
    t.bytesAtIdle = t.socket.bytesRead;
  }

  /** Parks every connection that has been idle for at least `parkAfter` ms. */
  #sweep(): void {
    const tick = ++this.#tick;
    for (const t of this.#all) {
      if (t.idleTick < 0 || tick - t.idleTick <= SWEEPS_PER_PARK) continue;
      if (!this.#isIdle(t)) {
        t.idleTick = -1; // busy again; its next finished response marks it idle
      } else if (t.socket.bytesRead !== t.bytesAtIdle) {
        this.#maybeIdle(t); // bytes that began no message (a stray CRLF): idle starts again
      } else {
        this.#park(t);
      }
    }
  }

  #park(t: Tracked): void {
    const handle = detachFromHttp(t.socket); // emits 'close' -> #forget
    if (!handle) return;
    try {
      this.#events.park(t.id, handle);
    } catch {
      closeHandle(handle);
    }
  }

  #forget(t: Tracked): void {
    if (t.gone) return;
    t.gone = true;
    this.#all.delete(t);
    this.#events.change('connections');
  }
}
