import type { NativeHandle } from '../shared/node-internals/handles.js';

/** An accepted connection waiting for a worker, with any bytes already read from it. */
export interface PendingConnection {
  readonly id: number;
  readonly handle: NativeHandle;
  /** Base64 of bytes read by the monitor; replayed by the worker before anything else. */
  readonly head?: string;
  readonly since: number;
}

/**
 * The active queue: FIFO, bounded by `capacity`. Array with a moving head so
 * that taking the oldest is O(1); compacted when the dead prefix grows.
 */
export class ConnectionQueue {
  readonly capacity: number;
  #items: PendingConnection[] = [];
  #head = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  get full(): boolean {
    return this.length >= this.capacity;
  }

  /** Age of the oldest waiting connection, in ms (0 when empty). */
  oldestWait(now: number): number {
    const first = this.#items[this.#head];
    return first ? now - first.since : 0;
  }

  push(item: PendingConnection): void {
    this.#items.push(item);
  }

  /** Puts back a connection a worker did not take, ahead of the others: it waited longest. */
  pushFront(item: PendingConnection): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
  }

  shift(): PendingConnection | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined as unknown as PendingConnection;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Empties the queue, returning what was in it (used at shutdown). */
  drain(): PendingConnection[] {
    const rest = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return rest;
  }
}
