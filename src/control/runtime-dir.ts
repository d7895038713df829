import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OPTIONS } from '../shared/options.js';
import { RocketError } from '../shared/errors.js';

/** Longest path a Unix socket may have on Linux (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;

/**
 * The per-user directory that holds one control socket per named cluster:
 * `$XDG_RUNTIME_DIR/rocket-cluster` when the session has one (an absolute
 * path, as the XDG spec requires), else `~/.rocket-cluster`.
 */
export function runtimeDirPath(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'rocket-cluster');
  return path.join(env.HOME && path.isAbsolute(env.HOME) ? env.HOME : os.homedir(), '.rocket-cluster');
}

/**
 * Returns the runtime directory, creating it 0700 if missing. Refuses a
 * directory anyone else could use to reach or replace our sockets: a symlink,
 * one owned by another user, or one with any group/other permission bit.
 */
export function ensureRuntimeDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = runtimeDirPath(env);
  makeDir(dir, 0o700);
  checkRuntimeDir(dir);
  return dir;
}

/**
 * The checks of ensureRuntimeDir for a directory that must already exist (the
 * CLI never creates it). Root may use a directory owned by another user: that
 * of a cluster started with --user (see ensureUserRuntimeDir), which root can
 * reach anyway.
 */
export function checkRuntimeDir(dir: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch (error) {
    throw new RocketError('RC_ERR_CONTROL_DIR', `cannot use ${dir}: ${(error as Error).message}`);
  }
  if (st.isSymbolicLink()) throw new RocketError('RC_ERR_CONTROL_DIR', `${dir} is a symbolic link; refusing to use it (remove it, rocket-cluster creates the directory itself)`);
  if (!st.isDirectory()) throw new RocketError('RC_ERR_CONTROL_DIR', `${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && uid !== 0 && st.uid !== uid) {
    throw new RocketError('RC_ERR_CONTROL_DIR', `${dir} is owned by uid ${st.uid}, not by you (uid ${uid}); refusing to use it`);
  }
  if ((st.mode & 0o077) !== 0) {
    throw new RocketError('RC_ERR_CONTROL_DIR', `${dir} has mode ${(st.mode & 0o777).toString(8)}, open to other users; run: chmod 700 ${dir}`);
  }
}

/**
 * Where a cluster started as root with --user keeps its control socket: a
 * directory per uid under /run, like /run/user/UID. The master drops to that
 * user once its addresses are bound, and must still reach its socket then (to
 * remove it at exit, or for the new master of an upgrade to claim the name);
 * root's own runtime directory, under /root, is closed to that user.
 */
export const SYSTEM_RUNTIME_DIR = '/run/rocket-cluster';

export function userRuntimeDirPath(uid: number): string {
  return path.join(SYSTEM_RUNTIME_DIR, String(uid));
}

/**
 * Returns the --user cluster's runtime directory, owned by `owner` and 0700.
 * As root it is created (its parent 0755 and root's); a master that has
 * already dropped to the user (the new master of an upgrade) finds it made.
 */
export function ensureUserRuntimeDir(owner: { readonly uid: number; readonly gid: number }): string {
  const dir = userRuntimeDirPath(owner.uid);
  if (process.getuid?.() === 0) {
    makeDir(SYSTEM_RUNTIME_DIR, 0o755);
    const parent = fs.lstatSync(SYSTEM_RUNTIME_DIR);
    if (parent.isSymbolicLink() || !parent.isDirectory() || parent.uid !== 0 || (parent.mode & 0o022) !== 0) {
      throw new RocketError('RC_ERR_CONTROL_DIR', `${SYSTEM_RUNTIME_DIR} must be a directory owned by root that only root can write; refusing to use it`);
    }
    makeDir(dir, 0o700);
    fs.chownSync(dir, owner.uid, owner.gid);
  }
  checkRuntimeDir(dir);
  const st = fs.lstatSync(dir);
  if (st.uid !== owner.uid) throw new RocketError('RC_ERR_CONTROL_DIR', `${dir} is owned by uid ${st.uid}, not by --user (uid ${owner.uid}); refusing to use it`);
  return dir;
}

function makeDir(dir: string, mode: number): void {
  try {
    fs.mkdirSync(dir, { mode });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new RocketError('RC_ERR_CONTROL_DIR', `cannot create ${dir}: ${(error as Error).message}`, { cause: error });
    }
  }
}

/**
 * Every runtime directory the CLI looks in, those that exist: its own first,
 * then those of --user clusters it may reach (root: every one; another user:
 * its own uid's).
 */
export function controlDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const uid = process.getuid?.();
  let system: string[] = [];
  if (uid === 0) {
    try {
      system = fs.readdirSync(SYSTEM_RUNTIME_DIR).filter((d) => /^\d+$/.test(d)).map((d) => path.join(SYSTEM_RUNTIME_DIR, d));
    } catch {
      system = [];
    }
  } else if (uid !== undefined) {
    system = [userRuntimeDirPath(uid)];
  }
  return [runtimeDirPath(env), ...system].filter((dir) => fs.existsSync(dir));
}

/**
 * The control socket of the cluster named `name`. A name typed on the command
 * line becomes a file name here, so it is checked as the config checks names.
 */
export function socketPath(dir: string, name: string): string {
  if (!OPTIONS.name.schema.safeParse(name).success) {
    throw new RocketError('RC_ERR_CONFIG_INVALID', `cluster name ${JSON.stringify(name)}: expected ${OPTIONS.name.expected}`);
  }
  const p = path.join(dir, `${name}.sock`);
  if (Buffer.byteLength(p) > MAX_SOCKET_PATH) {
    throw new RocketError('RC_ERR_CONTROL_DIR', `control socket path ${p} is longer than ${MAX_SOCKET_PATH} bytes; use a shorter --name or XDG_RUNTIME_DIR`);
  }
  return p;
}

/** Names of the clusters that have a socket in the directory (running or stale). */
export function socketNames(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isSocket() && e.name.endsWith('.sock'))
    .map((e) => e.name.slice(0, -'.sock'.length))
    .sort();
}
