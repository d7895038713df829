import { RocketError } from '../shared/errors.js';

/**
 * The start's one outcome: it passes once the minimum workers and the
 * monitor are ready, and fails at the first worker or monitor that cannot
 * start, or at `startTimeout`. Whichever comes first wins; the rest is ignored.
 */
export class StartupGate {
  #settle: { resolve: () => void; reject: (e: Error) => void } | null = null;

  /** A start is being waited for. */
  get pending(): boolean {
    return this.#settle !== null;
  }

  /** Waits for `pass` or `fail`; `ready()` is asked at once, since everything may be ready already. */
  wait(timeoutMs: number, ready: () => boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new RocketError('RC_ERR_WORKER_START', `workers did not get ready within ${timeoutMs} ms`)), timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#settle = null;
      };
      this.#settle = { resolve: () => (done(), resolve()), reject: (e) => (done(), reject(e)) };
      if (ready()) this.pass();
    });
  }

  pass(): void {
    this.#settle?.resolve();
  }

  fail(error: Error): void {
    this.#settle?.reject(error);
  }
}
