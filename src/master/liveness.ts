import { HEARTBEAT_MS } from '../shared/defaults.js';
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

/** A child that has posted within this long is answering: its event loop runs (each posts every HEARTBEAT_MS). */
export const ANSWERING_MS = 2 * HEARTBEAT_MS;

/**
 * Whether a handle a child did not acknowledge within the ack timeout was lost
 * on the way rather than held by a hung child. A child that has posted since
 * (within ANSWERING_MS, ten seconds after the send) read our message long ago,
 * in order, and acknowledges every message it reads at once: it found no
 * descriptor in it. That happens when the child is out of descriptors: the
 * kernel drops the one passed (MSG_CTRUNC), the child's Node answers
 * NODE_HANDLE_NACK and never delivers the message, and the sending Node, after
 * three tries, closes its own copy. The child holds no copy, so it must not be
 * killed as hung; the connection is gone.
 */
export function lostOnTheWay(lastHeard: number, now = Date.now()): boolean {
  return now - lastHeard < ANSWERING_MS;
}
