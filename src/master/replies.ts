import { RocketError } from '../shared/errors.js';

interface Pending<T> {
  readonly resolve: (value: T) => void;
  readonly reject: (error: RocketError) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Request/reply over a channel's plain messages: each request gets an id that
 * its reply carries back. No reply within the timeout rejects with
 * RC_ERR_IPC_TIMEOUT (a late reply is then dropped), the peer's exit with
 * RC_ERR_IPC_CLOSED. Unlike a handle, a question lost is only an answer missed,
 * so a slow peer is not killed for it.
 */
export class Replies<T> {
  readonly #pending = new Map<number, Pending<T>>();
  #nextId = 0;

  /** Calls `send` with a fresh id and waits for `settle(id, ...)`. */
  ask(send: (id: number) => void, timeoutMs: number, what: string): Promise<T> {
    const id = ++this.#nextId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new RocketError('RC_ERR_IPC_TIMEOUT', `no ${what} reply within ${timeoutMs} ms`));
      }, timeoutMs).unref();
      this.#pending.set(id, { resolve, reject, timer });
      send(id);
    });
  }

  settle(id: number, value: T): void {
    const p = this.#pending.get(id);
    if (!p) return; // timed out already
    this.#pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(value);
  }

  /** The peer is gone: nothing pending will be answered. */
  failAll(what: string): void {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new RocketError('RC_ERR_IPC_CLOSED', `channel closed before the ${what} reply`));
    }
    this.#pending.clear();
  }
}
