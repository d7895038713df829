import { HEARTBEAT_MS } from '../shared/defaults.js';
import { DescriptorWatch, type DescriptorState } from '../shared/descriptors.js';
import type { Logger } from '../shared/logger.js';
import { Ticker } from './ticker.js';

/**
 * The master's own descriptors, sampled on the children's heartbeat cadence
 * whatever state the cluster is in: the master holds a descriptor for every
 * connection it queues or relays, and, out of them, it could neither accept
 * nor take a handle a child sends it. Its workers sample theirs and report
 * them in their load (src/worker/descriptors.ts).
 */
export class MasterDescriptors {
  readonly #watch: DescriptorWatch;
  readonly #ticker: Ticker;

  constructor(log: Logger) {
    this.#watch = new DescriptorWatch(log);
    this.#ticker = new Ticker(HEARTBEAT_MS, () => this.#watch.sample());
    this.#watch.sample();
    this.#ticker.start();
  }

  get state(): DescriptorState {
    return this.#watch.state;
  }

  /** An accept by the master failed (with `--accept master`, or while no worker accepts). */
  acceptFailed(errno: number): void {
    this.#watch.acceptFailed(errno);
  }

  stop(): void {
    this.#ticker.stop();
  }
}

/** The master's watch (one master per process, as spawn.ts's child output): the accept paths report to it. */
let current: MasterDescriptors | null = null;

/** Starts the master's watch; the one started last is the one `masterAcceptFailed` reports to. */
export function watchMasterDescriptors(log: Logger): MasterDescriptors {
  current = new MasterDescriptors(log);
  return current;
}

/** An accept by the master failed: counted, and logged at most once per interval, never once per failure. */
export function masterAcceptFailed(errno: number): void {
  current?.acceptFailed(errno);
}
