import fs from 'node:fs';
import type { ClusterConfig } from '../shared/config.js';
import { RocketError } from '../shared/errors.js';
import { resolveIdentity } from './privileges.js';
import { lookupGroup } from './system-users.js';
import { loadTlsMaterial } from './tls-material.js';

/**
 * What `start` checks before it starts anything, so that a mistake in the
 * deployment exits 2 with the culprit named, as a bad option does: every
 * https:// address's certificate and key can be read and used, and --user,
 * --group and --socket-group exist, and every --static directory is one. The master checks again when it starts
 * (a daemon's master runs in its own process).
 */
export function preflight(config: ClusterConfig): void {
  resolveIdentity(config);
  for (const address of config.listen) if (address.kind === 'unix' && address.group !== undefined) lookupGroup(address.group, '--socket-group');
  loadTlsMaterial(config.listen);
  checkCwd(config);
  for (const mount of config.static) checkStaticDir(mount.dir);
}

/** The workers' --cwd must be a directory: a fork into a missing one fails with a bare ENOENT that names nothing. */
export function checkCwd(config: Pick<ClusterConfig, 'cwd'>): void {
  if (config.cwd === undefined) return;
  let isDir = false;
  try {
    isDir = fs.statSync(config.cwd).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new RocketError('RC_ERR_CONFIG_INVALID', `cwd ${JSON.stringify(config.cwd)}: no such directory`);
}

/** A `--static` directory must exist and be a directory: else every request for it would quietly miss. */
function checkStaticDir(dir: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch (error) {
    throw new RocketError('RC_ERR_CONFIG_INVALID', `--static ${dir}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : String(error)}`);
  }
  if (!stat.isDirectory()) throw new RocketError('RC_ERR_CONFIG_INVALID', `--static ${dir}: not a directory`);
}
