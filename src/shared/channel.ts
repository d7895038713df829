import type { ChildProcess } from 'node:child_process';
import { closeHandle, type NativeHandle } from './node-internals/handles.js';
import { isEnvelope, wrap, type Ack } from './protocol.js';

/** The peer: a `ChildProcess` (in the parent) or `process` (in a child). */
export type Endpoint = ChildProcess | NodeJS.Process;

type SendFn = (message: unknown, handle: NativeHandle | undefined, options: undefined, callback: (error: Error | null) => void) => boolean;

/** Handles an incoming message; for one that carries a handle, returns whether it took ownership. */
export type Receiver<In> = (message: In, handle: NativeHandle | undefined) => boolean | void;

/**
 * What became of a handle sent to the peer:
 * - `taken`: the peer owns it; the channel has closed this process's copy.
 * - `refused`: the peer answered "not accepted"; the handle is still ours.
 * - `closed`: the peer is gone (or the send failed) before it answered; still ours.
 * - `timeout`: the peer did not answer in time. It is hung and may hold a copy,
 *   so the owner must kill it before the handle is used again.
 */
export type HandleOutcome = 'taken' | 'refused' | 'closed' | 'timeout';

/**
 * The one rule for a handle the peer did not take, whoever sends it: it comes
 * back to its sender here, with the message it travelled in, and the sender
 * either re-queues it or closes it. Nothing else ever owns it.
 */
export type Reclaim<Out> = (message: Out, handle: NativeHandle, outcome: Exclude<HandleOutcome, 'taken'>) => void;

interface Outgoing<Out> {
  readonly message: Out;
  readonly handle: NativeHandle;
  readonly settle: (outcome: HandleOutcome, reason: string) => void;
}

/**
 * One IPC channel to one peer: plain messages, and handle passing paced to one
 * handle in flight. Node re-sends its whole queue of unacknowledged handles on
 * every ack, so a burst of `send(msg, handle)` is quadratic (about 1.2k handles/s
 * here); waiting for our own ack before the next handle keeps Node's queue empty
 * (12-14k/s). The ack also says whether the peer took the handle: until it says
 * yes, the sender still owns its copy, so a refusal, a timeout or a dead peer
 * never loses a connection. Ownership is settled here, in one place for every
 * sender: a taken handle's copy is closed by the channel, and one that was not
 * taken goes to the sender's `reclaim`. Pacing is also how `send()`'s
 * backpressure is kept: plain messages are few and coalesced by their senders.
 */
export class Channel<In extends { t: string }, Out extends { t: string }> {
  readonly #endpoint: Endpoint;
  readonly #receive: Receiver<In>;
  readonly #reclaim: Reclaim<Out>;
  readonly #ackTimeout: number;
  readonly #queue: Outgoing<Out>[] = [];
  #inFlight: (Outgoing<Out> & { seq: number }) | null = null;
  #seq = 0;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  readonly #answering: () => boolean;

  /**
   * `answering` (asked only when an ack is overdue): whether the peer still
   * posts, so that it read the message long ago. Then it found no handle in
   * it: the kernel dropped the descriptor on the way because the peer was out
   * of them, its Node answered NODE_HANDLE_NACK and never delivered the
   * message (for a raw handle, Node neither retries nor closes ours). The
   * handle is settled `refused` (still ours, intact) and the channel stays
   * open, instead of the peer being taken for hung.
   */
  constructor(endpoint: Endpoint, receive: Receiver<In>, options: { ackTimeout: number; reclaim: Reclaim<Out>; answering?: () => boolean }) {
    this.#endpoint = endpoint;
    this.#receive = receive;
    this.#reclaim = options.reclaim;
    this.#ackTimeout = options.ackTimeout;
    this.#answering = options.answering ?? (() => false);
    const on = endpoint.on.bind(endpoint) as (event: string, listener: (...args: never[]) => void) => unknown;
    on('message', (raw: unknown, handle: NativeHandle | undefined) => this.#onMessage(raw, handle));
    on('disconnect', () => this.close());
  }

  get connected(): boolean {
    return !this.#closed && this.#endpoint.connected !== false;
  }

  /** Handles waiting to be sent, plus the one in flight. */
  get pendingHandles(): number {
    return this.#queue.length + (this.#inFlight ? 1 : 0);
  }

  get busy(): boolean {
    return this.#inFlight !== null;
  }

  /** Sends a message without a handle; a closed channel drops it (the peer is gone). */
  post(message: Out): void {
    if (!this.connected) return;
    this.#send(wrap(message), undefined, ignoreSendError);
  }

  /**
   * Sends a handle, one in flight at a time. Resolves with its outcome once the
   * peer answered or the channel failed; never rejects. By then the handle is
   * settled: closed here if the peer took it, else given to `reclaim`.
   */
  sendHandle(message: Out, handle: NativeHandle): Promise<HandleOutcome> {
    return this.#enqueue(message, handle, (outcome, reason) => {
      if (outcome === 'taken') closeHandle(handle);
      else this.#reclaimSafely(message, handle, outcome, reason);
    });
  }

  /**
   * Lends a copy of a handle this process keeps: a listening socket the master
   * shares with its workers, or one a worker gives back. Both processes own a
   * descriptor of the same socket afterwards, so nothing is closed or
   * reclaimed here whatever the outcome; paced like `sendHandle`.
   */
  shareHandle(message: Out, handle: NativeHandle): Promise<HandleOutcome> {
    return this.#enqueue(message, handle, () => {});
  }

  #enqueue(message: Out, handle: NativeHandle, settled: (outcome: HandleOutcome, reason: string) => void): Promise<HandleOutcome> {
    return new Promise((resolve) => {
      const settle = (outcome: HandleOutcome, reason: string) => {
        settled(outcome, reason);
        resolve(outcome);
      };
      if (!this.connected) {
        settle('closed', `channel closed before sending ${message.t}`);
        return;
      }
      this.#queue.push({ message, handle, settle });
      this.#pump();
    });
  }

  /** Fails everything pending; further sends fail at once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    const failed = this.#inFlight ? [this.#inFlight, ...this.#queue] : [...this.#queue];
    this.#inFlight = null;
    this.#queue.length = 0;
    for (const item of failed) item.settle('closed', `channel closed before ${item.message.t} was acknowledged`);
  }

  #send(message: unknown, handle: NativeHandle | undefined, callback: (error: Error | null) => void): void {
    const send = this.#endpoint.send as SendFn | undefined;
    send?.call(this.#endpoint, message, handle, undefined, callback);
  }

  #pump(): void {
    if (this.#inFlight || this.#closed) return;
    const next = this.#queue.shift();
    if (!next) return;
    const seq = ++this.#seq;
    this.#inFlight = { ...next, seq };
    this.#send(wrap(next.message, seq), next.handle, (error) => {
      if (error && this.#inFlight?.seq === seq) this.#finish('closed', `sending ${next.message.t} failed: ${error.message}`);
    });
    if (this.#timer) this.#timer.refresh();
    else this.#timer = setTimeout(() => this.#onTimeout(), this.#ackTimeout).unref();
  }

  #finish(outcome: HandleOutcome, reason: string): void {
    const done = this.#inFlight;
    this.#inFlight = null;
    if (this.#timer && this.#queue.length === 0) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    done?.settle(outcome, reason);
    this.#pump();
  }

  #onTimeout(): void {
    this.#timer = null;
    const stuck = this.#inFlight;
    if (!stuck) return;
    if (this.#answering()) return this.#finish('refused', `${stuck.message.t}: the peer read it without its descriptor (out of descriptors)`);
    // A peer that does not ack is hung: nothing more goes to it, the rest is
    // settled as not sent, and the owner kills the peer before reusing the handle.
    this.#inFlight = null;
    stuck.settle('timeout', `no ack for ${stuck.message.t} within ${this.#ackTimeout} ms`);
    this.close();
  }

  #onMessage(raw: unknown, handle: NativeHandle | undefined): void {
    if (!isEnvelope(raw)) return; // an app's own process.send traffic
    const message = raw.m as unknown as In | Ack;
    if (message.t === 'ack') {
      const ack = message as Ack;
      if (this.#inFlight?.seq === ack.seq) this.#finish(ack.ok ? 'taken' : 'refused', 'the peer refused it');
      return;
    }
    let ok = false;
    try {
      ok = this.#receive(message as In, handle) !== false;
    } finally {
      // A refused handle is still the sender's; our duplicate of the fd must go.
      if (handle && !ok) closeHandle(handle);
      if (raw.seq !== undefined) {
        const reply: Ack = { t: 'ack', seq: raw.seq, ok };
        this.#send(wrap(reply), undefined, ignoreSendError);
      }
    }
  }

  #reclaimSafely(message: Out, handle: NativeHandle, outcome: Exclude<HandleOutcome, 'taken'>, reason: string): void {
    try {
      this.#reclaim(message, handle, outcome);
    } catch (error) {
      // A reclaim that throws is a bug of ours: the fd must not leak, the channel must keep
      // pumping, and the bug must be loud, so it is rethrown outside the channel's own work.
      closeHandle(handle);
      process.nextTick(() => {
        throw new Error(`reclaiming ${message.t} (${reason}) failed`, { cause: error });
      });
    }
  }
}

function ignoreSendError(): void {
  // A send to a peer that just exited fails; its exit is handled by the owner.
}
