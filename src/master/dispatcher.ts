import type { Logger } from '../shared/logger.js';
import type { HandleOutcome } from '../shared/channel.js';
import { QUEUE_SWEEP_MS } from '../shared/defaults.js';
import { closeHandle, peerAddress, type NativeHandle } from '../shared/node-internals/handles.js';
import { ConnectionQueue, type PendingConnection } from './queue.js';
import { rejectBusy } from './reject.js';
import { pickWorker, type WorkerSnapshot } from './scheduling.js';
import { StickyTable } from './sticky.js';
import { Ticker } from './ticker.js';
import type { WorkerLink } from './worker-link.js';

export interface DispatcherOptions {
  readonly queueSize: number;
  /** Longest wait in the queue (ms) before a connection is answered 503; 0 for no bound. */
  readonly queueTimeout: number;
  /** Connections at which a worker takes no more. */
  readonly workerConnections: number;
  /** The workers, in spawn order (the pool's live list). */
  readonly workers: () => readonly WorkerLink[];
  /**
   * Whether a connection may wait in the queue now. False once workers were
   * told to stop, and while a crash-looping pool has no worker left: waiting
   * would only delay the 503.
   */
  readonly admitting: () => boolean;
  /** `--sticky ip`: a client address's connections go to one worker (sticky.ts). */
  readonly sticky?: boolean;
}

/**
 * How often the queue is swept for connections past `queueTimeout`: a tenth
 * of it, between 10 ms and QUEUE_SWEEP_MS, so a 503 comes at most 10% late
 * for short bounds and 100 ms late for long ones.
 */
export function sweepInterval(queueTimeout: number): number {
  return Math.min(QUEUE_SWEEP_MS, Math.max(10, Math.round(queueTimeout / 10)));
}

/**
 * The journey's middle: a connection accepted by the master (or woken by the
 * monitor) waits here, FIFO and bounded, until the least-loaded worker with
 * room takes it; one handle is in flight per worker. A full queue answers 503,
 * and so does a wait past `queueTimeout`: found when pumping (nothing expired
 * is ever dispatched) and by a sweep that runs only while something waits,
 * with no timer per connection. It knows nothing of shutdown: it says when it
 * has emptied (`whenEmpty`), and the master decides what that means.
 */
export class Dispatcher {
  readonly queue: ConnectionQueue;
  /** `rejected`: 503 on arrival (queue full, not admitting); `timedOut`: 503 after waiting `queueTimeout`. */
  readonly counters = { accepted: 0, dispatched: 0, rejected: 0, surplus: 0, timedOut: 0 };
  readonly #options: DispatcherOptions;
  readonly #log: Logger;
  readonly #sweeper: Ticker | null;
  #nextConnId = 0;
  #turn = 0;
  #onEmpty: (() => void) | null = null;
  /** With `--sticky ip`: which worker each client address is bound to. */
  readonly sticky: StickyTable | null;

  /** Set by a master upgrade: where connections go instead of the queue. */
  #divert: ((item: PendingConnection) => void) | null = null;

  constructor(options: DispatcherOptions, log: Logger) {
    this.#options = options;
    this.#log = log;
    this.queue = new ConnectionQueue(options.queueSize);
    this.sticky = options.sticky === true ? new StickyTable() : null;
    this.#sweeper = options.queueTimeout > 0 ? new Ticker(sweepInterval(options.queueTimeout), () => this.#sweep()) : null;
  }

  /** A new connection from listen address `listener`. */
  accept(handle: NativeHandle, listener: number): void {
    this.counters.accepted++;
    this.enqueue({ id: ++this.#nextConnId, handle, listener, since: Date.now() }, 'new');
  }

  /** A connection handed over by the master this one upgrades: a new id here; `head` is what was read already. */
  adopt(handle: NativeHandle, head: string | undefined, listener: number | undefined): void {
    const item: PendingConnection = { id: ++this.#nextConnId, handle, since: Date.now(), ...(head === undefined ? {} : { head }), ...(listener === undefined ? {} : { listener }) };
    this.enqueue(item, head === undefined ? 'new' : 'woken');
  }

  /**
   * A connection that must be served: new, woken (with the bytes in `head`), or
   * a worker's surplus; 503 if it cannot wait.
   */
  enqueue(item: PendingConnection, from: 'new' | 'woken' | 'surplus' = 'woken'): void {
    if (from === 'surplus') this.counters.surplus++;
    if (this.sticky) item = this.#withClient(item);
    if (this.#divert) return this.#divert(item);
    if (this.queue.full || !this.#options.admitting()) {
      this.counters.rejected++;
      rejectBusy(item.handle);
      return;
    }
    this.queue.push(item);
    this.pump();
  }

  /**
   * A worker did not take a connection (see `WorkerEvents.returned`): it goes
   * back first in line, and its wait starts again. `queueTimeout` bounds time
   * in the queue: its time in flight (up to the ack timeout, 10 s, for a hung
   * worker) was not, and one back from a worker that died should wait for the
   * replacement rather than get a 503 at once.
   */
  returned(worker: WorkerLink, item: Omit<PendingConnection, 'since'>, outcome: Exclude<HandleOutcome, 'taken'>): void {
    if (outcome === 'timeout') this.#log.error({ worker: worker.id, workerPid: worker.pid }, 'worker did not acknowledge a connection: killed it');
    if (this.#divert) return this.#divert({ ...item, since: Date.now() });
    this.queue.pushFront(this.sticky ? this.#withClient({ ...item, since: Date.now() }) : { ...item, since: Date.now() });
  }

  /** Answers what waited too long, then sends waiting connections to workers with room, one in flight per worker. */
  pump(): void {
    if (this.queue.length > 0) this.#expire();
    const workers = this.#options.workers();
    if (this.sticky) this.#pumpSticky(workers, this.sticky);
    while (!this.sticky && this.queue.length > 0) {
      const i = pickWorker(workers, this.#options.workerConnections, this.#turn);
      if (i < 0) break;
      this.#turn = i + 1;
      this.#dispatch(workers[i] as WorkerLink, this.queue.shift() as PendingConnection);
    }
    if (this.queue.length > 0) this.#sweeper?.start();
    if (this.queue.length === 0 && this.#onEmpty) {
      const onEmpty = this.#onEmpty;
      this.#onEmpty = null;
      onEmpty();
    }
  }

  /** Calls `done` once, as soon as nothing waits (now, if the queue is empty). */
  whenEmpty(done: () => void): void {
    this.#onEmpty = done;
    this.pump();
  }

  /**
   * A master upgrade: from now on every connection that would wait here goes
   * to `to` (the new master) instead, those already waiting first.
   */
  divert(to: (item: PendingConnection) => void): void {
    this.#divert = to;
    for (const item of this.queue.drain()) to(item);
    this.#sweeper?.stop();
  }

  /** Closes every waiting connection (a forced stop). */
  closeAll(): void {
    for (const item of this.queue.drain()) closeHandle(item.handle);
    this.#sweeper?.stop();
  }

  /** Answers 503 (as for a full queue) to every connection that has waited longer than `queueTimeout`. */
  #expire(): void {
    if (this.#options.queueTimeout <= 0) return;
    const expired = this.queue.expire(Date.now() - this.#options.queueTimeout);
    if (expired.length === 0) return;
    this.counters.timedOut += expired.length;
    // A woken connection's request was read by the monitor: the 503 is its answer, and the rest of it is read and dropped.
    for (const item of expired) rejectBusy(item.handle);
    this.#log.debug({ count: expired.length, queueTimeout: this.#options.queueTimeout }, 'queue timeout: answered 503');
  }

  /** The sweep: runs only while connections wait; a pump also serves what a worker has room for and settles `whenEmpty`. */
  #sweep(): void {
    this.pump();
    if (this.queue.length === 0) this.#sweeper?.stop();
  }

  /**
   * `--sticky ip`: the addresses of workers that left move to one heir each;
   * then each worker free now (ready, nothing in flight, under the cap, not
   * out of descriptors) takes the first connection in line that is bound to
   * it, or one from an address bound to no worker yet if it is the one
   * `pickWorker` would choose among the free. A connection whose worker is
   * busy or full waits for it, bounded by `queueTimeout`; it never goes to
   * another live worker.
   */
  #pumpSticky(workers: readonly WorkerLink[], table: StickyTable): void {
    const ready = workers.filter((w) => w.ready);
    for (const move of table.settle(ready)) this.#log.info(move, 'sticky: a worker left; its client addresses move together to one other worker');
    if (this.queue.length === 0) return;
    const cap = this.#options.workerConnections;
    const view: (WorkerSnapshot & { busy: boolean })[] = workers.map((w) => ({ ready: w.ready, busy: w.busy || w.outOfDescriptors || w.active >= cap, active: w.active, generation: w.generation }));
    let free = view.filter((w) => w.ready && !w.busy).length;
    if (free === 0) return;
    const index = new Map(workers.map((w, i) => [w.id, i]));
    const sends: [WorkerLink, PendingConnection][] = [];
    this.queue.take((item) => {
      if (free === 0) return 'stop';
      const bound = item.client === undefined ? undefined : table.workerOf(item.client);
      const i = bound === undefined ? pickWorker(view, cap, this.#turn) : (index.get(bound) ?? -1);
      const target = view[i];
      if (!target || !target.ready || target.busy) return 'keep';
      if (bound === undefined) this.#turn = i + 1;
      target.busy = true;
      free--;
      const worker = workers[i] as WorkerLink;
      if (item.client !== undefined) table.bind(item.client, worker.id);
      sends.push([worker, item]);
      return 'take';
    });
    // After the pass: a connection not taken comes back (`returned`) into the queue.
    for (const [worker, item] of sends) this.#dispatch(worker, item);
  }

  /** The item with its client's address (`--sticky ip`), read from the handle if it does not carry it yet. */
  #withClient(item: PendingConnection): PendingConnection {
    if (item.client !== undefined) return item;
    const client = peerAddress(item.handle);
    return client === undefined ? item : { ...item, client };
  }

  #dispatch(worker: WorkerLink, item: PendingConnection): void {
    // A connection not taken comes back through `returned` before this resolves.
    void worker.serve(item).then((outcome) => {
      if (outcome === 'taken') this.counters.dispatched++;
      this.pump();
    });
  }
}
