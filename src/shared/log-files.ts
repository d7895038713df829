import os from 'node:os';
import path from 'node:path';
import type { ClusterConfig } from './config.js';

/** Where a daemon's log files go unless --log-dir says otherwise; kept across logins, unlike $XDG_RUNTIME_DIR. */
export function defaultLogDir(home: string = os.homedir()): string {
  return path.join(home, '.rocket-cluster', 'logs');
}

/**
 * With --log-dir, the cluster's own log directory and the symlink to the file
 * written now: the master rotates the files, and workers open the link to
 * append their own lines (see src/logs/rotating-file.ts).
 */
export function clusterLogFiles(config: Pick<ClusterConfig, 'logDir' | 'name'>): { dir: string; link: string } | null {
  if (config.logDir === undefined) return null;
  const dir = path.join(config.logDir, config.name);
  return { dir, link: path.join(dir, 'current.log') };
}
