import type net from 'node:net';
import { socketFromHandle, takeHandle, type NativeHandle } from '../shared/node-internals/handles.js';

export interface ParkedEvents {
  /** The client sent again: `head` is what was read; the callee owns `handle`. */
  wake(id: number, handle: NativeHandle, head: Buffer): void;
  /**
   * Sockets left without the master seeing it (a client closed, a keep-alive
   * time ran out). A watch and a wake the master sees, and counts, itself:
   * reporting them too cost two IPC messages per park → wake.
   */
  forgot(count: number): void;
}

interface Parked {
  readonly id: number;
  readonly deadline: number;
}

const kParked = Symbol('rocket-cluster.parked');
type ParkedSocket = net.Socket & { [kParked]?: ParkedSockets };

/**
 * The idle keep-alive sockets this process holds. Each is read until its first
 * chunk: then reading stops and the socket leaves with that chunk. One that stays
 * idle past its keep-alive time, or whose client closes, is closed and forgotten.
 *
 * Memory per socket is the point here (thousands may be parked): listeners are
 * shared functions rather than closures, and there is no timer per socket. Every
 * socket arrives with the same remaining idle time, so deadlines are in arrival
 * order; one timer walks the insertion-ordered map from the oldest.
 */
export class ParkedSockets {
  readonly #events: ParkedEvents;
  readonly #sockets = new Map<net.Socket, Parked>();
  readonly #capacity: number;
  #sweep: NodeJS.Timeout | null = null;

  constructor(capacity: number, events: ParkedEvents) {
    this.#capacity = capacity;
    this.#events = events;
  }

  get size(): number {
    return this.#sockets.size;
  }

  /** Takes a socket to watch; false (handle not taken) when full. */
  watch(id: number, handle: NativeHandle, idleMs: number): boolean {
    if (this.#sockets.size >= this.#capacity) return false;
    const socket = socketFromHandle(handle) as ParkedSocket;
    socket[kParked] = this;
    this.#sockets.set(socket, { id, deadline: Date.now() + Math.max(1, idleMs) });
    // Plain `on`, not `once`: the handlers are idempotent, and `once` would allocate a wrapper per socket.
    socket.on('data', onData);
    socket.on('end', destroy);
    socket.on('error', destroy);
    socket.on('close', onClose);
    this.#schedule();
    return true;
  }

  closeAll(): void {
    for (const s of this.#sockets.keys()) s.destroy();
  }

  /**
   * Hands every socket back now (a master upgrade moves them to the new
   * master), each as a wake with nothing read: a socket's 'data' handler takes
   * whatever arrives at once, so none holds bytes here that would be lost.
   */
  releaseAll(): void {
    for (const [socket, parked] of this.#sockets) {
      this.#sockets.delete(socket);
      const handle = takeHandle(socket);
      if (handle) this.#events.wake(parked.id, handle, Buffer.alloc(0));
    }
    this.#events.forgot(0);
  }

  /** First chunk from a parked client: stop reading and hand the socket back with the chunk. */
  onData(socket: net.Socket, head: Buffer): void {
    const parked = this.#sockets.get(socket);
    this.#sockets.delete(socket);
    const handle = takeHandle(socket);
    if (parked && handle) this.#events.wake(parked.id, handle, head);
    else if (parked) this.#events.forgot(this.#sockets.size);
  }

  onClose(socket: net.Socket): void {
    if (this.#sockets.delete(socket)) this.#events.forgot(this.#sockets.size);
  }

  #schedule(): void {
    if (this.#sweep !== null) return;
    const oldest = this.#sockets.values().next();
    if (oldest.done) return;
    this.#sweep = setTimeout(() => this.#expire(), Math.max(1, oldest.value.deadline - Date.now()));
  }

  #expire(): void {
    this.#sweep = null;
    const now = Date.now();
    const before = this.#sockets.size;
    for (const [socket, parked] of this.#sockets) {
      if (parked.deadline > now) break;
      this.#sockets.delete(socket);
      socket.destroy();
    }
    if (this.#sockets.size !== before) this.#events.forgot(this.#sockets.size);
    this.#schedule();
  }
}

function onData(this: ParkedSocket, head: Buffer): void {
  this[kParked]?.onData(this, head);
}

function onClose(this: ParkedSocket): void {
  this[kParked]?.onClose(this);
}

function destroy(this: net.Socket): void {
  this.destroy();
}
