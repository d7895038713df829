/** A periodic task that can be started and stopped any number of times; it never keeps the process alive. */
export class Ticker {
  readonly #ms: number;
  readonly #task: () => void;
  #timer: NodeJS.Timeout | null = null;

  constructor(ms: number, task: () => void) {
    this.#ms = ms;
    this.#task = task;
  }

  start(): void {
    this.#timer ??= setInterval(this.#task, this.#ms);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
