import { constants } from 'node:fs';
import { access, mkdir, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import pinoRoll from 'pino-roll';
import { DESTINATION_OPTIONS, LogOutput, type Destination } from './output.js';

export interface RotatingFileOptions {
  /** The cluster's own log directory, `<logDir>/<name>`. */
  readonly dir: string;
  /** Files are `<base>.<number>.log`. */
  readonly base: string;
  /** Size at which a new file starts: '10m' style. */
  readonly maxSize: string;
  /** Rotated files kept besides the current one. */
  readonly retain: number;
}

/**
 * Log files through pino-roll: `<dir>/<base>.<n>.log`, a new number once a
 * file reaches `maxSize` (checked after each write, so a file ends a little
 * past it, on a line boundary), `<dir>/current.log` a symlink to the file
 * written now. A restart goes on appending to the highest-numbered file.
 * Rejects if the directory cannot be created or written: better refused at
 * start than a cluster whose every line is dropped.
 *
 * Retention is done here rather than with pino-roll's `limit`: its default
 * mode only deletes files it created itself (a restarted daemon would keep the
 * files of its earlier runs forever) and refuses a count of 0; its
 * `removeOtherLogFiles` mode lists the directory while the new file may not
 * be open yet, keeping one file too many. Pruning after each open ('ready')
 * sees the new file.
 */
export async function openRotatingFile(options: RotatingFileOptions): Promise<LogOutput> {
  const { dir, base, maxSize, retain } = options;
  // pino-roll creates the current.log symlink before sonic-boom's own mkdir would run.
  await mkdir(dir, { recursive: true });
  await access(dir, constants.W_OK);
  const dest = (await pinoRoll({ file: path.join(dir, `${base}.log`), size: maxSize, symlink: true, ...DESTINATION_OPTIONS })) as unknown as Destination;
  // The first open completes in a later callback: these listeners see it.
  const output = new LogOutput(dest, dir);
  let pruning = Promise.resolve();
  dest.on('ready', () => {
    pruning = pruning.then(() => prune(dir, base, retain + 1));
  });
  return output;
}

/** Deletes all but the `keep` highest-numbered `<base>.<n>.log` files. */
async function prune(dir: string, base: string, keep: number): Promise<void> {
  const numbered = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)\\.log$`);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return; // the directory went away: the next open recreates nothing to prune
  }
  const files = names.flatMap((name) => {
    const m = numbered.exec(name);
    return m ? [{ name, n: Number(m[1]) }] : [];
  });
  files.sort((a, b) => b.n - a.n);
  await Promise.allSettled(files.slice(keep).map((f) => unlink(path.join(dir, f.name))));
}
