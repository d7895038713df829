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
  idleSince: number;
  bytesAtIdle: number;
  timer: NodeJS.Timeout | null;
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

/**
 * The worker's connections: counts them, sees when one sits idle between
 * requests, and after `parkAfter` ms hands it back instead of holding it.
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
  #draining = false;

  constructor(parkAfter: number, events: ConnectionEvents) {
    this.#parkAfter = parkAfter;
    this.#events = events;
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
    const t: Tracked = { id, socket, begun: 0, completed: 0, requests: 0, finished: 0, open: [], idleSince: 0, bytesAtIdle: 0, timer: null, gone: false };
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
    if (this.#parkAfter === 0) return;
    t.idleSince = performance.now();
    t.bytesAtIdle = t.socket.bytesRead;
    // One timer per connection, pushed back on each idle start: no allocation per request.
    if (t.timer === null) t.timer = setTimeout(() => this.#onIdleTimer(t), this.#parkAfter);
    else t.timer.refresh();
  }

  #onIdleTimer(t: Tracked): void {
    if (!this.#isIdle(t)) return; // busy again; its next finished response re-arms
    if (t.socket.bytesRead !== t.bytesAtIdle) {
      // Bytes arrived that began no message (stray CRLF between requests): idle starts again.
      this.#maybeIdle(t);
      return;
    }
    if (performance.now() - t.idleSince < this.#parkAfter - 1) {
      t.timer?.refresh(); // fired early by timer coarseness
      return;
    }
    this.#park(t);
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
    if (t.timer) clearTimeout(t.timer);
    t.timer = null;
    this.#all.delete(t);
    this.#events.change('connections');
  }
}
