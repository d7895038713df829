import type { NativeHandle } from '../shared/node-internals/handles.js';

/** An accepted connection waiting for a worker, with any bytes already read from it. */
export interface PendingConnection {
  readonly id: number;
  readonly handle: NativeHandle;
  /** Base64 of bytes read by the monitor; replayed by the worker before anything else. */
  readonly head?: string;
  /** The listen address (index into --listen) it came in on; absent for one that moved, always plain HTTP. */
  readonly listener?: number;
  /** The client's IP address, read by the master with `--sticky ip` (absent otherwise, and for a unix socket). */
  readonly client?: string;
  /** When it entered the queue (ms, `Date.now()`); a connection a worker did not take comes back with a new one. */
  readonly since: number;
}

/** Slots taken from the front before the array is compacted. */
const COMPACT_AFTER = 1024;

/**
 * The active queue: FIFO, bounded by `capacity`. Array with a moving head so
 * that taking the oldest is O(1); compacted when the dead prefix grows.
 *
 * Ages: `push` appends in arrival order, so those items are oldest first.
 * `pushFront` puts a connection a worker did not take back ahead of them
 * (with its own `since`, older or newer than theirs); such items form a
 * prefix (`shift` takes from the front, `push` adds at the back) that stays
 * short, since only a connection in flight to a worker (one per worker) can
 * come back. So the oldest waiting connections are among that prefix and the
 * first item after it: finding them (`oldestWait`, `expire`) never scans the
 * whole queue.
 */
export class ConnectionQueue {
  readonly capacity: number;
  #items: PendingConnection[] = [];
  #head = 0;
  /** How many items from the head were put back by `pushFront` (not in arrival order). */
  #returned = 0;

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
    const end = Math.min(this.#head + this.#returned + 1, this.#items.length);
    let oldest = now;
    for (let i = this.#head; i < end; i++) oldest = Math.min(oldest, (this.#items[i] as PendingConnection).since);
    return now - oldest;
  }

  push(item: PendingConnection): void {
    this.#items.push(item);
  }

  /** Puts back a connection a worker did not take, ahead of the others: it was first in line. */
  pushFront(item: PendingConnection): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
    this.#returned++;
  }

  shift(): PendingConnection | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined as unknown as PendingConnection;
    if (this.#returned > 0) this.#returned--;
    this.#compact();
    return item;
  }

  /**
   * Removes and returns every connection that entered before `cutoff` (ms),
   * keeping the others in their order. Cost: the put-back prefix plus what
   * expires. Arrival-order items are sorted by `since` as long as the clock
   * does not step back; if it does, some expire later than they should.
   */
  expire(cutoff: number): PendingConnection[] {
    const items = this.#items;
    const arrivals = this.#head + this.#returned;
    let end = arrivals;
    while (end < items.length && (items[end] as PendingConnection).since < cutoff) end++;
    const expired: PendingConnection[] = [];
    const kept: PendingConnection[] = [];
    for (let i = this.#head; i < arrivals; i++) {
      const item = items[i] as PendingConnection;
      (item.since < cutoff ? expired : kept).push(item);
    }
    if (end === arrivals && expired.length === 0) return expired;
    for (let i = arrivals; i < end; i++) expired.push(items[i] as PendingConnection);
    // The put-back items that stay move up to just before the first arrival that stays.
    const head = end - kept.length;
    for (let i = this.#head; i < head; i++) items[i] = undefined as unknown as PendingConnection;
    for (const [i, item] of kept.entries()) items[head + i] = item;
    this.#head = head;
    this.#returned = kept.length;
    this.#compact();
    return expired;
  }

  /**
   * Takes out, in queue order, the connections `decide` says to take, keeping
   * the others in their order; stops looking at the first 'stop'. Costs one
   * pass over what it looked at (`--sticky ip`: a connection waits for its
   * own worker, so the first in line is not always the next to go).
   */
  take(decide: (item: PendingConnection) => 'take' | 'keep' | 'stop'): PendingConnection[] {
    const items = this.#items;
    const putBack = this.#head + this.#returned;
    const taken: PendingConnection[] = [];
    let write = this.#head;
    let returned = 0;
    let i = this.#head;
    for (; i < items.length; i++) {
      const item = items[i] as PendingConnection;
      const decision = decide(item);
      if (decision === 'stop') break;
      if (decision === 'take') {
        taken.push(item);
        continue;
      }
      if (i < putBack) returned++;
      items[write++] = item;
    }
    if (taken.length === 0) return taken;
    for (; i < items.length; i++) {
      if (i < putBack) returned++;
      items[write++] = items[i] as PendingConnection;
    }
    items.length = write;
    this.#returned = returned;
    this.#compact();
    return taken;
  }

  /** Empties the queue, returning what was in it (used at shutdown). */
  drain(): PendingConnection[] {
    const rest = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    this.#returned = 0;
    return rest;
  }

  #compact(): void {
    if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
