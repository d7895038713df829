import type { Logger } from '../shared/logger.js';
import type { HandleOutcome } from '../shared/channel.js';
import { closeHandle, type NativeHandle } from '../shared/node-internals/handles.js';
import { ConnectionQueue, type PendingConnection } from './queue.js';
import { rejectBusy } from './reject.js';
import { pickWorker } from './scheduling.js';
import type { WorkerLink } from './worker-link.js';

export interface DispatcherOptions {
  readonly queueSize: number;
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
}

/**
 * The journey's middle: a connection accepted by the master (or woken by the
 * monitor) waits here, FIFO and bounded, until the least-loaded worker with
 * room takes it; one handle is in flight per worker. A full queue answers 503.
 * It knows nothing of shutdown: it says when it has emptied (`whenEmpty`), and
 * the master decides what that means.
 */
export class Dispatcher {
  readonly queue: ConnectionQueue;
  readonly counters = { accepted: 0, dispatched: 0, rejected: 0, surplus: 0 };
  readonly #options: DispatcherOptions;
  readonly #log: Logger;
  #nextConnId = 0;
  #turn = 0;
  #onEmpty: (() => void) | null = null;

  constructor(options: DispatcherOptions, log: Logger) {
    this.#options = options;
    this.#log = log;
    this.queue = new ConnectionQueue(options.queueSize);
  }

  /** A new connection from a listener. */
  accept(handle: NativeHandle): void {
    this.counters.accepted++;
    this.enqueue({ id: ++this.#nextConnId, handle, since: Date.now() }, 'new');
  }

  /**
   * A connection that must be served: new, woken (with the bytes in `head`), or
   * a worker's surplus; 503 if it cannot wait.
   */
  enqueue(item: PendingConnection, from: 'new' | 'woken' | 'surplus' = 'woken'): void {
    if (from === 'surplus') this.counters.surplus++;
    if (this.queue.full || !this.#options.admitting()) {
      this.counters.rejected++;
      rejectBusy(item.handle);
      return;
    }
    this.queue.push(item);
    this.pump();
  }

  /** A worker did not take a connection (see `WorkerEvents.returned`): it goes back first in line. */
  returned(worker: WorkerLink, id: number, handle: NativeHandle, head: string | undefined, outcome: Exclude<HandleOutcome, 'taken'>): void {
    if (outcome === 'timeout') this.#log.error({ worker: worker.id, workerPid: worker.pid }, 'worker did not acknowledge a connection: killed it');
    this.queue.pushFront(head === undefined ? { id, handle, since: Date.now() } : { id, handle, head, since: Date.now() });
  }

  /** Sends waiting connections to workers with room, one in flight per worker. */
  pump(): void {
    const workers = this.#options.workers();
    while (this.queue.length > 0) {
      const i = pickWorker(workers, this.#options.workerConnections, this.#turn);
      if (i < 0) break;
      this.#turn = i + 1;
      this.#dispatch(workers[i] as WorkerLink, this.queue.shift() as PendingConnection);
    }
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

  /** Closes every waiting connection (a forced stop). */
  closeAll(): void {
    for (const item of this.queue.drain()) closeHandle(item.handle);
  }

  #dispatch(worker: WorkerLink, item: PendingConnection): void {
    // A connection not taken comes back through `returned` before this resolves.
    void worker.serve(item.id, item.handle, item.head).then((outcome) => {
      if (outcome === 'taken') this.counters.dispatched++;
      this.pump();
    });
  }
}
