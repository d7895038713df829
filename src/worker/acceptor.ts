import type { NativeHandle } from '../shared/node-internals/handles.js';
import { acceptOn, type ListenSocket } from '../shared/node-internals/shared-listener.js';

export interface AcceptorEvents {
  /** Connections this worker holds now. */
  active(): number;
  /** A connection accepted here on listen address `listener`, to serve here; `id` is unique in the cluster. */
  accepted(id: number, client: NativeHandle, listener: number): void;
  /** A connection accepted here at or over the limit: the master's queue decides where it goes. */
  surplus(id: number, client: NativeHandle, listener: number): void;
  /** Accepting failed (EMFILE: out of descriptors); the socket stays up. */
  failed(errno: number): void;
}

/**
 * The worker's side of `--accept workers`: it accepts on the listening
 * sockets the master lent it, at kernel speed, with no IPC hop. Workers that
 * poll one socket race for each connection and the winner is not always the
 * least busy (node:cluster's SCHED_NONE imbalance), so the master sets a
 * limit from the pool's load: a connection accepted while this worker holds
 * that many goes to the master, which dispatches it to the least-loaded
 * worker or answers 503 when its queue is full. Leaving (retire, shutdown)
 * closes this worker's copies at once: the sockets stay open in the master
 * and the other workers.
 */
export class Acceptor {
  readonly #events: AcceptorEvents;
  readonly #sockets = new Map<number, ListenSocket>();
  /** Worker-accepted ids live above 2^32 × worker id, apart from the master's (which count from 1). */
  readonly #idBase: number;
  #accepted = 0;
  #limit = Infinity;
  #stopped = false;

  constructor(workerId: number, events: AcceptorEvents) {
    this.#idBase = workerId * 2 ** 32;
    this.#events = events;
  }

  /** Connections accepted here since start, surplus included. */
  get accepted(): number {
    return this.#accepted;
  }

  /** Starts accepting on shared socket `index`; false (the socket is closed here) if it cannot. */
  add(index: number, socket: ListenSocket, limit: number): boolean {
    if (this.#stopped || this.#sockets.has(index)) {
      socket.close();
      return false;
    }
    this.#limit = limit;
    const error = acceptOn(
      socket,
      (client) => this.#onClient(client, index),
      (errno) => this.#events.failed(errno),
    );
    if (error !== 0) {
      socket.close();
      return false;
    }
    this.#sockets.set(index, socket);
    return true;
  }

  setLimit(limit: number): void {
    this.#limit = limit;
  }

  /** This worker's copy of shared socket `index`, to lend back to the master. */
  socket(index: number): ListenSocket | undefined {
    return this.#sockets.get(index);
  }

  /** Stops accepting for good: closes this worker's copies. */
  stop(): void {
    this.#stopped = true;
    for (const socket of this.#sockets.values()) socket.close();
    this.#sockets.clear();
  }

  #onClient(client: NativeHandle, listener: number): void {
    const id = this.#idBase + ++this.#accepted;
    if (this.#events.active() >= this.#limit) this.#events.surplus(id, client, listener);
    else this.#events.accepted(id, client, listener);
  }
}
