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
 * Forks a child with its role, id and settings in its environment. Its stdout
 * and stderr are the master's: JSON log lines from every process in one stream.
 */
export function spawnChild(role: ChildRole, id: number, config: ClusterConfig): ChildProcess {
  return fork(ENTRY[role], [], {
    env: { ...process.env, [ENV.role]: role, [ENV.id]: String(id), [ENV.config]: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
  });
}
