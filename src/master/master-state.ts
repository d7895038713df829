import type { StatusReport } from '../shared/status-report.js';

/**
 * The master's own life, one state at a time:
 *
 *   starting ──▶ running ◀──▶ reloading
 *      │            │             │
 *      └────────────┴──▶ stopping ┴──▶ closing ──▶ stopped
 *   (any but stopped) ──▶ killing ──▶ stopped
 *
 * - starting: children start, nothing is bound yet.
 * - running: serving; the autoscaler and supervisor tick.
 * - reloading: serving while a rolling reload replaces the workers; no scaling.
 * - stopping: listeners closed; connections already queued are still served.
 * - closing: the queue is empty and workers were told to finish and exit.
 * - killing: every child is killed at once (second signal, failed start, shutdown timeout).
 * - stopped: every child is gone.
 */
export type MasterState = 'starting' | 'running' | 'reloading' | 'stopping' | 'closing' | 'killing' | 'stopped';

const ALLOWED: Readonly<Record<MasterState, readonly MasterState[]>> = {
  starting: ['running', 'stopping', 'killing'],
  running: ['reloading', 'stopping', 'killing'],
  reloading: ['running', 'stopping', 'killing'],
  stopping: ['closing', 'killing'],
  closing: ['stopped', 'killing'],
  killing: ['stopped'],
  stopped: [],
};

/** Holds the master's state; every change goes through `to`, which rejects an illegal move. */
export class MasterLifecycle {
  #state: MasterState = 'starting';
  readonly #listeners: ((state: MasterState, from: MasterState) => void)[] = [];

  get state(): MasterState {
    return this.#state;
  }

  /** Moves to `next`; an illegal move is a bug, so it throws. Returns false if already there. */
  to(next: MasterState): boolean {
    if (this.#state === next) return false;
    if (!ALLOWED[this.#state].includes(next)) throw new Error(`illegal master state change ${this.#state} -> ${next}`);
    const from = this.#state;
    this.#state = next;
    for (const listener of this.#listeners) listener(next, from);
    return true;
  }

  /** Calls `listener` after every change of state (sd_notify follows them). */
  onChange(listener: (state: MasterState, from: MasterState) => void): void {
    this.#listeners.push(listener);
  }

  /** New connections and parked ones are still taken (the listeners are open). */
  get serving(): boolean {
    return this.#state === 'running' || this.#state === 'reloading' || this.#state === 'starting';
  }

  /** Stop has begun (gracefully or not). */
  get ending(): boolean {
    return !this.serving;
  }

  /** Queued connections can still reach a worker: workers have not been told to stop. */
  get dispatching(): boolean {
    return this.serving || this.#state === 'stopping';
  }

  /** What `/status` shows: a reload is reported as `running` with `reloading: true`. */
  get reported(): StatusReport['state'] {
    const s = this.#state;
    return s === 'starting' ? 'starting' : s === 'running' || s === 'reloading' ? 'running' : 'stopping';
  }
}
