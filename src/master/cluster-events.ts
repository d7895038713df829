import type { ClusterEvent } from '../shared/protocol.js';

/**
 * Where the master's parts (pool, autoscaler, pool control) report what
 * happens to the cluster: worker starts and exits, scale changes, reloads.
 * The master forked by the programmatic API forwards each event to its
 * caller (src/master/embedded-main.ts); nothing else listens, so emitting
 * costs a loop over an empty array.
 */
export class ClusterEvents {
  readonly #listeners: ((event: ClusterEvent) => void)[] = [];

  on(listener: (event: ClusterEvent) => void): void {
    this.#listeners.push(listener);
  }

  emit(event: ClusterEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
