/**
 * Worker slots: the stable number an app reads as ROCKET_WORKER_ID (and
 * NODE_APP_INSTANCE, as under PM2), from 0 to --max-workers − 1. Unlike a
 * worker's id (unique, increasing, for logs) a slot is reused: the worker that
 * replaces another (after a crash, in a reload, when recycled) takes its slot,
 * and a new worker takes the lowest slot no live worker holds. An app can so
 * pin a singleton job to one slot ("cron in worker 0", docs/APP-LIFECYCLE.md).
 */

/**
 * The slot for a new worker: `preferred` (the slot of the worker it replaces)
 * unless a live worker holds it already, else the lowest free one. `held`
 * are the slots of the live workers (retiring ones have given theirs up),
 * less the one being replaced, if it lives: in a reload the new worker takes
 * the slot while the old one still serves, until it retires.
 */
export function pickSlot(held: Iterable<number>, preferred?: number): number {
  const taken = new Set(held);
  if (preferred !== undefined && !taken.has(preferred)) return preferred;
  let slot = 0;
  while (taken.has(slot)) slot++;
  return slot;
}
