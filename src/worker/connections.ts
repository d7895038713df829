import type http from 'node:http';
import type net from 'node:net';
import { closeHandle, pendingWrite, type NativeHandle } from '../shared/node-internals/handles.js';
import { detachFromHttp, hasParser, hasResponseInFlight } from '../shared/node-internals/http-connection.js';
import { closeQuiet, settled, type Tracked } from './tracked-connection.js';

const kTracked = Symbol('rocket-cluster.connection');
type TrackedSocket = net.Socket & { [kTracked]?: Tracked };
type TrackedResponse = http.ServerResponse & { [kTracked]?: Tracked };

export interface ConnectionEvents {
  /** Sockets whose parser sits between messages, or null if that cannot be known (then nothing parks). */
  betweenMessages(): Set<net.Socket> | null;
  /** The connection left this worker as a handle to be parked; the callee owns it. */
  park(id: number, handle: NativeHandle): void;
  /** The connection left this worker as a handle to be served elsewhere (a shed); the callee owns it. */
  shed(id: number, handle: NativeHandle): void;
  /** A connection left (`connections`), or only the number of requests served changed (`served`). */
  change(what: 'connections' | 'served'): void;
}

/** Sweeps per park-after period: a connection parks after 1 to 1.5 times park-after of idleness. */
const SWEEPS_PER_PARK = 2;

/**
 * While draining, a connection that has not sent a byte yet may have its first
 * request in the kernel buffer (it was just dispatched from the queue): it is
 * left this long to show it, then closed if it still has not.
 */
const DRAIN_FRESH_GRACE_MS = 1000;

/**
 * The worker's connections: counts them, sees when one sits idle between
 * requests, and after `parkAfter` ms hands it back instead of holding it.
 * Idle means all of: every request has its response finished, nothing is left
 * to write, the socket still belongs to http (an upgraded one never leaves its
 * worker), no byte of a next request has been read (its parser is between
 * messages, or it never sent a byte), and no byte arrived since it went idle.
 * One periodic sweep finds them: no timer and no parser hook per request.
 *
 * With parking off (`stopParking`: a Node internal it needs is missing), no
 * connection is ever detached and no internal is used: leaving (retirement
 * or shutdown) closes connections instead, each once it is quiet.
 */
export class Connections {
  readonly #events: ConnectionEvents;
  readonly #all = new Set<Tracked>();
  #served = 0;
  #received = 0;
  #tick = 0;
  #sweeper: NodeJS.Timeout | null = null;
  /** Connections can be detached from node:http and handed back. */
  #detachable = true;
  /** How connections leave once the worker stops taking work: closed (shutdown) or parked (retirement). */
  #leaving: 'no' | 'close' | 'park' = 'no';
  #releaseScheduled = false;
  #recheck: NodeJS.Timeout | null = null;
  /** Connections still to hand back for a rebalance, until `#shedUntil` (performance.now()). */
  #toShed = 0;
  #shedUntil = 0;

  /** Idle connections park only while the worker holds at least this many (0: whatever it holds). */
  readonly #parkAt: number;

  constructor(parkAfter: number, parkAt: number, events: ConnectionEvents) {
    this.#events = events;
    this.#parkAt = parkAt;
    if (parkAfter > 0) this.#sweeper = setInterval(() => this.#sweep(), Math.max(1, parkAfter / SWEEPS_PER_PARK)).unref();
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

  /** Never detach a connection again: idle ones stay, and leaving closes them (see `closeQuiet`). */
  stopParking(): void {
    this.#detachable = false;
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = null;
  }

  /**
   * Tracks a socket the http server has just been given, with `replayed` bytes
   * unshifted into it. `fromMaster`: it came from the master, which counts what
   * it sent against `received`; one accepted here does not count there.
   */
  adopt(socket: net.Socket, id: number, replayed: number, fromMaster: boolean, pinned = false): void {
    const t: Tracked = { id, socket, pinned, replayed, requests: 0, finished: 0, open: [], idleTick: -1, idleAt: -1, bytesAtIdle: 0, gone: false };
    (socket as TrackedSocket)[kTracked] = t;
    this.#all.add(t);
    if (fromMaster) this.#received++;
    socket.once('close', () => this.#forget(t));
    // A connection that never sends a request is idle from the start (a browser's preconnect).
    this.#maybeIdle(t);
  }

  /**
   * A pinned connection's handshake ended: from now on node:http serves it
   * through `secured` (the TLS socket over the raw one). The raw socket's
   * 'close' still ends the tracking: it closes with the TLS socket.
   */
  rebind(raw: net.Socket, secured: net.Socket): void {
    const t = (raw as TrackedSocket)[kTracked];
    if (!t) return;
    t.socket = secured;
    (secured as TrackedSocket)[kTracked] = t;
  }

  /** Server 'request' hook, before the app's handler; the worker's one 'finish' listener calls `finished(res)`. */
  onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const t = (req.socket as TrackedSocket)[kTracked];
    this.#served++;
    if (this.#leaving === 'close' || (this.#leaving === 'park' && t?.pinned)) res.shouldKeepAlive = false;
    if (!t) return;
    t.requests++;
    t.idleAt = -1;
    t.open.push(res);
    (res as TrackedResponse)[kTracked] = t;
  }

  /** The response to a request seen by `onRequest` finished. */
  finished(res: http.ServerResponse): void {
    const t = (res as TrackedResponse)[kTracked];
    if (t) this.#finished(t, res);
  }

  #finished(t: Tracked, res: http.ServerResponse): void {
    t.finished++;
    t.open.splice(t.open.indexOf(res), 1);
    this.#events.change('served');
    this.#maybeIdle(t);
  }

  /**
   * From now on every response closes its connection (`Connection: close`), and
   * idle connections close now. `change` reports when the last one is gone.
   */
  drain(): void {
    this.#leaving = 'close';
    for (const t of this.#all) {
      // In flight already: tell the client not to send another request on this connection.
      for (const res of t.open) if (!res.headersSent) res.shouldKeepAlive = false;
    }
    this.#release(false);
    setTimeout(() => this.#release(true), DRAIN_FRESH_GRACE_MS).unref();
  }

  /**
   * Retirement (reload, scale-down): no connection is closed. Each one is
   * parked as soon as it is between requests, in-flight requests finish first,
   * and `change` reports when the last one is gone. Parking loses nothing a
   * client sent: bytes not yet read travel in the kernel buffer with the fd.
   * With parking off, it is a drain: the connections close once quiet.
   */
  retire(): void {
    if (this.#leaving !== 'no') return;
    if (!this.#detachable) return this.drain();
    this.#leaving = 'park';
    for (const t of this.#all) {
      // A pinned connection cannot move: its response in flight tells the client to come back on a new one.
      if (t.pinned) for (const res of t.open) if (!res.headersSent) res.shouldKeepAlive = false;
    }
    this.#release(true);
  }

  /**
   * Rebalance: hands `count` connections back to be served by another worker,
   * each the moment it is between requests (as retirement does, so nothing a
   * client sent is lost: unread bytes travel in the kernel buffer with the fd).
   * What is not shed within `withinMs` lapses: a connection must not leave
   * long after the load that asked for it has changed. Idle ones go first.
   */
  shed(count: number, withinMs: number): void {
    if (!this.#detachable || this.#leaving !== 'no') return;
    this.#toShed = count;
    this.#shedUntil = performance.now() + withinMs;
    this.#shedIdle();
  }

  /** Quiet: settled, and as Node's internals see it, no response attached, libuv's queue empty, still an http socket. */
  #quiet(t: Tracked): boolean {
    const s = t.socket;
    return settled(t) && (!this.#detachable || (!hasResponseInFlight(s) && pendingWrite(s) === 0 && hasParser(s)));
  }

  /**
   * Quiet, and no byte of a next request read: its parser is between messages,
   * or no byte ever reached the parser (Node counts a fresh parser as busy).
   * `bytesRead` alone would miss bytes replayed from the monitor.
   */
  #idle(t: Tracked, between: Set<net.Socket>): boolean {
    return this.#quiet(t) && ((t.replayed === 0 && t.socket.bytesRead === 0) || between.has(t.socket));
  }

  #maybeIdle(t: Tracked): void {
    if (!this.#quiet(t)) return;
    t.idleTick = this.#tick;
    t.idleAt = performance.now();
    t.bytesAtIdle = t.socket.bytesRead;
    if (this.#leaving !== 'no' || this.#toShed > 0) this.#scheduleRelease();
  }

  #shedIdle(): void {
    if (this.#toShed <= 0 || this.#leaving !== 'no') return;
    if (performance.now() > this.#shedUntil) {
      this.#toShed = 0;
      return;
    }
    const between = this.#events.betweenMessages();
    if (between === null) {
      this.#toShed = 0; // cannot tell a half-read request from none: never move one
      return;
    }
    for (const t of this.#all) {
      if (this.#toShed <= 0) break;
      if (!t.pinned && this.#idle(t, between) && this.#handOver(t, 'shed')) this.#toShed--;
    }
  }

  /** Parks every connection that has been idle for at least `parkAfter` ms. */
  #sweep(): void {
    const tick = ++this.#tick;
    // Under the pressure mark, idle connections stay (Node closes them at its keep-alive timeout); idle times
    // are still tracked, so those idle long enough park as soon as the mark is reached.
    if (this.#leaving !== 'no' || this.#all.size < this.#parkAt) return;
    let between: Set<net.Socket> | null | undefined;
    for (const t of this.#all) {
      if (t.pinned || t.idleTick < 0 || tick - t.idleTick <= SWEEPS_PER_PARK) continue;
      between ??= this.#events.betweenMessages();
      if (between === null) return; // cannot tell a half-read request from none: never park
      if (!this.#quiet(t)) {
        t.idleTick = -1; // busy again; its next finished response marks it idle
      } else if (t.socket.bytesRead !== t.bytesAtIdle) {
        this.#maybeIdle(t); // bytes arrived since it went idle: idle starts again
      } else if (this.#idle(t, between)) {
        this.#handOver(t, 'park');
      } else {
        t.idleTick = -1; // part of a next request is in the parser; its response marks it idle
      }
    }
  }

  /**
   * Right after the current callback, before the event loop reads anything
   * more: a busy client's next request is often already on its way, and a
   * later check (setImmediate runs after the poll phase) would find it begun
   * and miss the moment the connection was between requests.
   */
  #scheduleRelease(): void {
    if (this.#releaseScheduled) return;
    this.#releaseScheduled = true;
    process.nextTick(() => {
      this.#releaseScheduled = false;
      if (this.#leaving === 'no') this.#shedIdle();
      else this.#release(this.#leaving === 'park');
    });
  }

  /**
   * Once leaving: every idle connection is closed or parked. A connection that
   * never had a request is closed only with `includeFresh` (after a grace), as
   * its first request may still be in the kernel buffer; parking it is safe.
   */
  #release(includeFresh: boolean): void {
    const between = this.#detachable ? this.#events.betweenMessages() : null;
    if (between === null) return this.#closeQuiet();
    for (const t of this.#all) {
      if ((t.requests === 0 && !includeFresh) || !this.#idle(t, between)) continue;
      if (this.#leaving === 'park' && !t.pinned) this.#handOver(t, 'park');
      else t.socket.destroy();
    }
  }

  /** Leaving with parking off: closes quiet connections (see `closeQuiet`), and looks again when the next is due. */
  #closeQuiet(): void {
    const next = closeQuiet(this.#all, performance.now());
    if (next === Infinity || this.#recheck) return;
    this.#recheck = setTimeout(() => {
      this.#recheck = null;
      this.#closeQuiet();
    }, next - performance.now()).unref();
  }

  /** Detaches an idle connection from node:http and hands it to `park` or `shed`; false if it had no handle left. */
  #handOver(t: Tracked, to: 'park' | 'shed'): boolean {
    const handle = detachFromHttp(t.socket); // emits 'close' -> #forget
    if (!handle) return false;
    try {
      this.#events[to](t.id, handle);
    } catch {
      closeHandle(handle);
    }
    return true;
  }

  #forget(t: Tracked): void {
    if (t.gone) return;
    t.gone = true;
    this.#all.delete(t);
    this.#events.change('connections');
  }
}
