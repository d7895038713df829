import type net from 'node:net';
import { socketFromHandle, takeHandle, type NativeHandle } from '../shared/handles.js';

export interface ParkedEvents {
  /** The client sent again: `head` is what was read; the callee owns `handle`. */
  wake(id: number, handle: NativeHandle, head: Buffer): void;
  change(count: number): void;
}

/**
 * The idle keep-alive sockets this process holds. Each is read until its first
 * chunk: then reading stops and the socket leaves with that chunk. One that stays
 * idle past its keep-alive time, or whose client closes, is closed and forgotten.
 */
export class ParkedSockets {
  readonly #events: ParkedEvents;
  readonly #sockets = new Set<net.Socket>();
  readonly #capacity: number;

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
    const socket = socketFromHandle(handle);
    this.#sockets.add(socket);
    socket.setTimeout(Math.max(1, idleMs), () => socket.destroy());
    socket.once('data', (head: Buffer) => {
      this.#sockets.delete(socket);
      const taken = takeHandle(socket);
      if (taken) this.#events.wake(id, taken, head);
      this.#events.change(this.#sockets.size);
    });
    socket.once('end', () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      if (this.#sockets.delete(socket)) this.#events.change(this.#sockets.size);
    });
    this.#events.change(this.#sockets.size);
    return true;
  }

  closeAll(): void {
    for (const s of this.#sockets) s.destroy();
  }
}

