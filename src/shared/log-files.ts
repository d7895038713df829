import os from 'node:os';
import path from 'node:path';
import type { ClusterConfig } from './config.js';

/**
 * Where a daemon's log files go unless --log-dir says otherwise; kept across
 * logins, unlike $XDG_RUNTIME_DIR. A daemon started as root with --user
 * writes them as that user once it has dropped root, and root's home is closed
 * to it (rotation creates files): its logs go to /var/log/rocket-cluster.
 */
export function defaultLogDir(home: string = os.homedir(), config?: Pick<ClusterConfig, 'user'>): string {
  if (config?.user !== undefined && process.getuid?.() === 0) return SYSTEM_LOG_DIR;
  return path.join(home, '.rocket-cluster', 'logs');
}

/** The default log directory of daemons started as root with --user. */
export const SYSTEM_LOG_DIR = '/var/log/rocket-cluster';

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
