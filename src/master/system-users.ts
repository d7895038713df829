import { execFileSync } from 'node:child_process';
import { RocketError } from '../shared/errors.js';

export interface SystemUser {
  readonly name: string;
  readonly uid: number;
  /** The user's primary group. */
  readonly gid: number;
}

export interface SystemGroup {
  readonly name: string;
  readonly gid: number;
}

/**
 * Looks a user up in the system's user database, by name or UID. `getent`
 * asks NSS as the C library does, so LDAP and systemd-userdb users are found
 * too, not only /etc/passwd. A numeric UID with no entry is taken as it is
 * (containers often run arbitrary UIDs), with a group of the same number.
 */
export function lookupUser(nameOrId: string, option: string): SystemUser {
  const fields = getent('passwd', nameOrId);
  if (fields) return { name: fields[0] ?? nameOrId, uid: Number(fields[2]), gid: Number(fields[3]) };
  if (/^\d+$/.test(nameOrId)) return { name: nameOrId, uid: Number(nameOrId), gid: Number(nameOrId) };
  throw new RocketError('RC_ERR_CONFIG_USER', `${option} ${JSON.stringify(nameOrId)}: no such user (getent passwd ${nameOrId} found nothing)`);
}

/** Looks a group up by name or GID; a numeric GID with no entry is taken as it is. */
export function lookupGroup(nameOrId: string, option: string): SystemGroup {
  const fields = getent('group', nameOrId);
  if (fields) return { name: fields[0] ?? nameOrId, gid: Number(fields[2]) };
  if (/^\d+$/.test(nameOrId)) return { name: nameOrId, gid: Number(nameOrId) };
  throw new RocketError('RC_ERR_CONFIG_USER', `${option} ${JSON.stringify(nameOrId)}: no such group (getent group ${nameOrId} found nothing)`);
}

/** The entry's colon-separated fields, or null when there is none (getent exits 2). */
function getent(database: 'passwd' | 'group', key: string): string[] | null {
  let out: string;
  try {
    out = execFileSync('getent', [database, key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { status?: number };
    if (e.status === 2) return null;
    throw new RocketError('RC_ERR_CONFIG_USER', `cannot look up ${JSON.stringify(key)} in the ${database} database: getent ${e.code ?? `exited ${e.status}`}`);
  }
  const line = out.split('\n')[0] ?? '';
  return line === '' ? null : line.split(':');
}
