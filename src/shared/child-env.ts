import type { ClusterConfig } from './config.js';
import { ENV } from './defaults.js';

/** The processes the master starts. */
export type ChildRole = 'worker' | 'monitor';

/** What a child learns from its environment: its id and the cluster's settings. */
export function readChildEnv(expectedRole: ChildRole): { id: number; config: ClusterConfig } {
  const role = process.env[ENV.role];
  const raw = process.env[ENV.config];
  if (role !== expectedRole || raw === undefined || typeof process.send !== 'function') {
    throw new Error(`this is the rocket-cluster ${expectedRole} entry; the master starts it, not a shell`);
  }
  return { id: Number(process.env[ENV.id] ?? 0), config: JSON.parse(raw) as ClusterConfig };
}

/**
 * Signals meant for the master that reach a child when they are sent to the
 * whole process group: SIGHUP (reload) and SIGUSR2 (upgrade the master) must
 * not end it, and SIGUSR1 (reopen log files) must not start Node's inspector
 * on port 9229, its default.
 */
export function ignoreMasterSignals(): void {
  for (const signal of ['SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const) process.on(signal, () => {});
}

/** How often a child also looks for its master, in case the IPC channel's 'disconnect' was missed. */
const PARENT_CHECK_MS = 1000;

/**
 * Children exit when the master is gone: an orphan would hold sockets nobody
 * supervises. The IPC channel's 'disconnect' says so at once; a look every
 * second at the channel and at the parent pid (an orphan is re-parented) is
 * the backstop: once, after a CI run, a worker of a SIGKILLed daemon master
 * was found alive and listening, its IPC descriptor closed, without having
 * begun to drain. `onGone` runs once.
 */
export function exitWithParent(onGone: () => void): void {
  const parent = process.ppid;
  let gone = false;
  const leave = () => {
    if (gone) return;
    gone = true;
    clearInterval(timer);
    onGone();
  };
  process.on('disconnect', leave);
  const timer = setInterval(() => {
    if (!process.connected || process.ppid !== parent) leave();
  }, PARENT_CHECK_MS).unref();
}
