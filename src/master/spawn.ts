import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ClusterConfig } from '../shared/config.js';
import { ENV } from '../shared/defaults.js';

export type ChildRole = 'worker' | 'monitor';

const ENTRY: Record<ChildRole, string> = {
  worker: fileURLToPath(new URL('../worker/main.js', import.meta.url)),
  monitor: fileURLToPath(new URL('../monitor/main.js', import.meta.url)),
};

/**
 * The monitor allocates little (a message per park or wake) but lives long and
 * holds thousands of sockets: a 1 MB young generation keeps its RSS to what it
 * holds instead of up to tens of MB of short-lived garbage awaiting a scavenge.
 */
const EXEC_ARGV: Partial<Record<ChildRole, readonly string[]>> = {
  monitor: ['--max-semi-space-size=1'],
};

/**
 * Forks a child with its role, id and settings in its environment. Its stdout
 * and stderr are the master's: JSON log lines from every process in one stream.
 */
export function spawnChild(role: ChildRole, id: number, config: ClusterConfig): ChildProcess {
  return fork(ENTRY[role], [], {
    execArgv: [...process.execArgv, ...(EXEC_ARGV[role] ?? [])],
    env: { ...process.env, [ENV.role]: role, [ENV.id]: String(id), [ENV.config]: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
  });
}
