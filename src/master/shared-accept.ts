import type { Logger } from '../shared/logger.js';
import type { NativeHandle } from '../shared/node-internals/handles.js';
import { acceptOn, type ListenSocket } from '../shared/node-internals/shared-listener.js';
import type { SharedListener } from './listener.js';
import { masterAcceptFailed } from './descriptors.js';
import { acceptLimit } from './scheduling.js';
import { Ticker } from './ticker.js';
import type { WorkerLink } from './worker-link.js';

/**
 * The accept limit is worked out again whenever a worker reports its load or
 * hands a connection over (`loadChanged`), and at least this often for the
 * connections the master itself sent since. Not faster: an idle master that
 * wakes 50 times a second costs CPU of its own.
 */
const LIMIT_TICK_MS = 100;

export interface SharedAcceptOptions {
  readonly workerConnections: number;
  /** A connection the master accepted itself (no worker accepts): to the dispatcher's queue. */
  accept(handle: NativeHandle, listener: number): void;
}

/**
 * `--accept workers`: the master owns the listening sockets and lends a copy
 * to every ready worker, which accepts on it (no IPC hop per connection). The
 * master decides who accepts: only ready workers that are not leaving, each up
 * to a limit worked out from the pool's load (`acceptLimit`); a worker over it
 * hands new connections to the master's queue. While no worker accepts at all
 * (at bind time; none is ready: a crash loop, every worker gone at once) the
 * master polls its own copies, so clients get served from the queue or a 503 instead of
 * waiting in the backlog; once a worker accepts again, it lends the master a
 * fresh copy and the master's polling copy is closed (a process cannot stop
 * polling a socket without closing its descriptor).
 */
export class SharedAccept {
  readonly listeners: readonly SharedListener[];
  readonly #options: SharedAcceptOptions;
  readonly #log: Logger;
  /** Workers accepting on every listener. */
  readonly #acceptors = new Set<WorkerLink>();
  readonly #ticker = new Ticker(LIMIT_TICK_MS, () => this.#updateLimit());
  #limit = 0;
  /** The listeners were bound by the master, which accepts on them until a worker does. */
  #masterPolling = true;
  /** Listeners still polled here while a worker's copy is on its way (`lend` sent, `lent` not yet back). */
  readonly #awaitingLent = new Set<number>();
  #closed = false;

  constructor(listeners: readonly SharedListener[], options: SharedAcceptOptions, log: Logger) {
    this.listeners = listeners;
    this.#options = options;
    this.#log = log;
    this.#limit = options.workerConnections;
    this.#ticker.start();
  }

  /** A worker reported its load or handed a connection over: its count changed, and so may the limit. */
  loadChanged(): void {
    if (!this.#closed) this.#updateLimit();
  }

  /** The master polls a listener itself now (no worker accepts, or a swap is under way). */
  get masterAccepting(): boolean {
    return this.#masterPolling || this.#awaitingLent.size > 0;
  }

  /**
   * Lends every listener to a ready worker. Resolves false if the worker
   * could not accept on one (it is then not an acceptor).
   */
  async lendTo(worker: WorkerLink): Promise<boolean> {
    if (this.#closed || !worker.ready || this.#acceptors.has(worker)) return false;
    this.#updateLimit();
    for (const [index, l] of this.listeners.entries()) {
      if (!(await worker.listen(index, l.socket, this.#limit))) {
        this.#log.error({ worker: worker.id, workerPid: worker.pid, address: l.address }, 'worker could not accept on a shared listener');
        return false;
      }
    }
    if (!worker.ready) return false;
    this.#acceptors.add(worker);
    if (this.#masterPolling) this.#stopPolling(worker);
    return true;
  }

  /** A worker exited: when none accepts any more, the master does. */
  drop(worker: WorkerLink): void {
    this.#acceptors.delete(worker);
    if (this.#closed) return;
    if (this.#acceptors.size === 0) this.#startPolling();
    // It died before lending its copies back: another acceptor lends them.
    const other = this.#acceptors.values().next().value;
    if (other) for (const index of this.#awaitingLent) other.channel.post({ t: 'lend', index });
  }

  /** A copy of listener `index`, lent back by a worker: it replaces the master's polling one. */
  lent(index: number, handle: NativeHandle): void {
    const l = this.listeners[index];
    if (!l || !l.pollable || this.#closed || this.#masterPolling || !this.#awaitingLent.delete(index)) {
      handle.close();
      return;
    }
    const polling = l.socket;
    l.socket = handle as ListenSocket;
    polling.close();
  }

  /**
   * A master upgrade: this master stops accepting (its TCP copies close; the
   * new master holds copies of its own), and its unix sockets are left open
   * until it exits: closing the descriptor that bound one would unlink the
   * path the new master serves on.
   */
  release(): void {
    this.#closed = true;
    this.#ticker.stop();
    for (const l of this.listeners) if (l.pollable) l.socket.close();
  }

  /** Stops accepting: closes the master's copies (the workers close theirs as they stop). */
  close(): void {
    this.#closed = true;
    this.#ticker.stop();
    for (const l of this.listeners) l.socket.close();
  }

  #updateLimit(): void {
    const acceptors = [...this.#acceptors].filter((w) => w.ready);
    const limit = acceptLimit(
      acceptors.map((w) => w.active),
      this.#options.workerConnections,
    );
    if (limit === this.#limit) return;
    this.#limit = limit;
    for (const w of acceptors) w.channel.post({ t: 'limit', limit });
  }

  #startPolling(): void {
    if (this.#masterPolling) return;
    this.#masterPolling = true;
    this.#awaitingLent.clear(); // still polling those: their copies, if they come, are closed
    this.#log.warn('no worker accepts: the master accepts new connections into its queue');
    for (const [index, l] of this.listeners.entries()) {
      if (!l.pollable) continue; // a unix socket's clients wait in its backlog until a worker is back
      const error = acceptOn(l.socket, (client) => this.#options.accept(client, index), masterAcceptFailed);
      if (error !== 0) this.#log.error({ address: l.address, errno: error }, 'the master cannot accept on its listener');
    }
  }

  /** Asks a worker for fresh copies; each replaces a polling one as it arrives (`lent`). */
  #stopPolling(worker: WorkerLink): void {
    this.#masterPolling = false;
    this.#log.info({ worker: worker.id }, 'a worker accepts: the master stops accepting');
    for (const [index, l] of this.listeners.entries()) {
      if (!l.pollable) continue;
      this.#awaitingLent.add(index);
      worker.channel.post({ t: 'lend', index });
    }
  }
}
