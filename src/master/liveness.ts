import type { ChildState } from './lifecycle.js';

/** How often the master looks for hung children: a hang is acted on within `workerTimeout` + 1 s. */
export const LIVENESS_CHECK_MS = 1000;

/** What the hang check reads of a child process: a worker and the monitor alike. */
export interface Liveness {
  readonly state: ChildState;
  readonly startedAt: number;
  /** When the child last sent anything; each posts at least every HEARTBEAT_MS. */
  readonly lastHeard: number;
}

export interface LivenessLimits {
  readonly startTimeout: number;
  readonly workerTimeout: number;
}

/**
 * Why a child counts as hung at `now`, or null. Spawning: not ready within
 * `startTimeout` of its start. Ready or draining: silent for `workerTimeout`;
 * a child beats every 0.5 s even when idle, so silence means its event loop
 * is blocked (or the process is stopped), not that it has nothing to say. A
 * stopping child is left to the shutdown and drain deadlines.
 */
export function hungReason(child: Liveness, now: number, limits: LivenessLimits): string | null {
  switch (child.state) {
    case 'spawning':
      return now - child.startedAt > limits.startTimeout ? `not ready within ${limits.startTimeout} ms` : null;
    case 'ready':
    case 'draining': {
      const silent = now - child.lastHeard;
      return silent > limits.workerTimeout ? `no heartbeat for ${silent} ms (event loop blocked?)` : null;
    }
    default:
      return null;
  }
}
