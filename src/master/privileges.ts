import fs from 'node:fs';
import path from 'node:path';
import type { ClusterConfig } from '../shared/config.js';
import { RocketError } from '../shared/errors.js';
import { lookupGroup, lookupUser } from './system-users.js';

/** Who every process runs as with --user (and --group). */
export interface Identity {
  readonly user: string;
  readonly uid: number;
  readonly group: string;
  readonly gid: number;
}

/**
 * The identity of --user and --group, looked up before anything binds: a
 * name that does not exist is an error naming it (exit 2 from `start`).
 * Switching user needs root; asking for the user one already is is a no-op.
 */
export function resolveIdentity(config: Pick<ClusterConfig, 'user' | 'group'>): Identity | null {
  if (config.user === undefined) {
    if (config.group !== undefined) throw new RocketError('RC_ERR_CONFIG_USER', `--group ${JSON.stringify(config.group)} needs --user: the group is the one the user runs with`);
    return null;
  }
  const user = lookupUser(config.user, '--user');
  const group = config.group === undefined ? { name: groupName(user.gid), gid: user.gid } : lookupGroup(config.group, '--group');
  const identity = { user: user.name, uid: user.uid, group: group.name, gid: group.gid };
  const uid = process.getuid?.();
  if (uid !== 0 && uid !== identity.uid) {
    throw new RocketError('RC_ERR_CONFIG_USER', `--user ${JSON.stringify(config.user)}: switching user needs a master started as root (this one runs as uid ${uid})`);
  }
  return identity;
}

function groupName(gid: number): string {
  try {
    return lookupGroup(String(gid), '--user').name;
  } catch {
    return String(gid);
  }
}

/**
 * The master, having bound every address as root, becomes `identity` for
 * good: supplementary groups first (that needs root), then the group, then
 * the user. Nothing can get root back afterwards.
 */
export function dropPrivileges(identity: Identity): void {
  if (process.getuid?.() !== 0) return;
  process.setgroups?.([]);
  process.setgid?.(identity.gid);
  process.setuid?.(identity.uid);
}

/** Hands the cluster's own log directory (`<logDir>/<name>`) and its files to `identity`, which writes and rotates them from now on. */
export function chownTree(dir: string, identity: Identity): void {
  fs.chownSync(dir, identity.uid, identity.gid);
  for (const entry of fs.readdirSync(dir)) {
    const file = path.join(dir, entry);
    fs.lchownSync(file, identity.uid, identity.gid);
  }
}
