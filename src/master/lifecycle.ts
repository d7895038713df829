import type { ChildState } from '../shared/status-report.js';

export type { ChildState };

const ALLOWED: Readonly<Record<ChildState, readonly ChildState[]>> = {
  spawning: ['ready', 'stopping', 'exited'],
  ready: ['draining', 'stopping', 'exited'],
  draining: ['stopping', 'exited'],
  stopping: ['exited'],
  exited: [],
};

/** The one place states change; an illegal move is a bug, so it throws. */
export function transition(from: ChildState, to: ChildState): ChildState {
  if (from === to) return to;
  if (!ALLOWED[from].includes(to)) throw new Error(`illegal child state change ${from} -> ${to}`);
  return to;
}
