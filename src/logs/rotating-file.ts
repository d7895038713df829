import { closeSync, constants, openSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { access, mkdir, readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { LogOutput, openDestination } from './output.js';

export interface RotatingFileOptions {
  /** The cluster's own log directory, `<logDir>/<name>`. */
  readonly dir: string;
  /** Files are `<base>.<number>.log`. */
  readonly base: string;
  /** Size at which a new file starts: '10m' style (k, m or g). */
  readonly maxSize: string;
  /** Rotated files kept besides the current one. */
  readonly retain: number;
}

/** How often the file's size is looked at: workers append to it without the master seeing their bytes. */
const SIZE_CHECK_MS = 50;

/** The log output of a --log-dir cluster, with what its other writers need to follow it. */
export interface RotatingFile {
  readonly output: LogOutput;
  /** `<dir>/current.log`, a symlink to the file written now. */
  readonly link: string;
  /** The file written now (opened by name: other writers open this path). */
  current(): string;
  /** Calls `listener` with the new file after each rotation, and with the same file after a reopen. */
  onChange(listener: (file: string) => void): void;
  /** SIGUSR1: opens the current file again by its name (an external logrotate moved it away). */
  reopen(): void;
  /** Closes the output (see LogOutput.close) once old files are deleted. */
  close(timeoutMs: number): Promise<void>;
}

/**
 * Log files `<dir>/<base>.<n>.log`, a new number once a file reaches
 * `maxSize`, `<dir>/current.log` a symlink to the file written now; a restart
 * goes on appending to the highest-numbered file. The master writes its own
 * lines here and the workers append theirs to the same file (each write a
 * whole number of lines, O_APPEND), so the size is the file's, looked at
 * every SIZE_CHECK_MS and after each of the master's writes: a file ends a
 * little past `maxSize` (by what was written in that time), on a line
 * boundary. After each rotation the other writers are told the new name.
 *
 * Not pino-roll (used before): it counts only the bytes written through it,
 * so it cannot rotate a file that several processes append to.
 * Rejects if the directory cannot be created or written: better refused at
 * start than a cluster whose every line is dropped.
 */
export async function openRotatingFile(options: RotatingFileOptions): Promise<RotatingFile> {
  const { dir, base, maxSize, retain } = options;
  await mkdir(dir, { recursive: true });
  await access(dir, constants.W_OK);
  const limit = parseSize(maxSize);
  const numbered = numberedFile(base);
  let n = Math.max(1, ...(await readdir(dir)).map((name) => Number(numbered.exec(name)?.[1] ?? 0)));
  const fileOf = (k: number) => path.join(dir, `${base}.${k}.log`);
  let file = fileOf(n);
  const link = path.join(dir, 'current.log');
  pointLink(link, file);
  // Created now, not when the destination gets round to opening it: with --user the master hands the files to that
  // user as soon as this resolves, before it starts the workers that append to them.
  closeSync(openSync(file, 'a'));
  const dest = openDestination({ dest: file, mkdir: true });
  const output = new LogOutput(dest, dir);
  const listeners: ((file: string) => void)[] = [];
  const tell = () => {
    for (const listener of listeners) listener(file);
  };
  let rotating = false;
  let pruning = Promise.resolve();
  let closed = false;
  const rotate = () => {
    if (rotating || closed) return;
    rotating = true;
    dest.flush((error) => {
      rotating = false;
      if (error || closed) return; // a write error is reported by the output; the next check tries again
      file = fileOf(++n);
      try {
        dest.reopen(file);
        pointLink(link, file);
      } catch (e) {
        dest.emit('error', e);
        return;
      }
      tell();
      const oldest = n - retain;
      pruning = pruning.then(() => prune(dir, numbered, oldest));
    });
  };
  const check = () => {
    const looked = file;
    stat(looked).then(
      (st) => {
        // A look at a file rotated away meanwhile must not rotate its successor.
        if (looked === file && st.size >= limit) rotate();
      },
      () => {}, // moved away by an external logrotate: SIGUSR1 reopens it
    );
  };
  dest.on('write', check);
  const timer = setInterval(check, SIZE_CHECK_MS).unref();
  dest.once('close', () => {
    closed = true;
    clearInterval(timer);
  });
  await prune(dir, numbered, n - retain);
  return {
    output,
    link,
    current: () => file,
    onChange: (listener) => void listeners.push(listener),
    reopen: () => {
      output.reopen();
      tell();
    },
    close: async (timeoutMs) => {
      await output.close(timeoutMs);
      await pruning;
    },
  };
}

/** '500k', '10m', '1g' (validated by the config) in bytes. */
function parseSize(size: string): number {
  const unit = size.at(-1);
  const power = unit === 'g' ? 3 : unit === 'm' ? 2 : 1;
  return Number(size.slice(0, -1)) * 1024 ** power;
}

function numberedFile(base: string): RegExp {
  return new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)\\.log$`);
}

/** Makes `link` point to `file`, replacing it in one step (readers never see it missing). */
function pointLink(link: string, file: string): void {
  const temporary = `${link}.${process.pid}.tmp`;
  rmSync(temporary, { force: true }); // left by a master that died here
  symlinkSync(path.basename(file), temporary);
  renameSync(temporary, link);
}

/**
 * Deletes the `<base>.<n>.log` files numbered below `oldest`. By number, not
 * by what is listed: a file just rotated to may not have been created yet.
 */
async function prune(dir: string, numbered: RegExp, oldest: number): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return; // the directory went away: the next open recreates nothing to prune
  }
  const old = names.filter((name) => Number(numbered.exec(name)?.[1] ?? oldest) < oldest);
  await Promise.allSettled(old.map((name) => unlink(path.join(dir, name))));
}
