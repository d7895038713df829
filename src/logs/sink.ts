import type { ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import tty from 'node:tty';
import type { ChildRole } from '../shared/child-env.js';
import type { LogStats } from '../shared/status-report.js';
import type { ClusterConfig } from '../shared/config.js';
import { clusterLogFiles } from '../shared/log-files.js';
import { MAX_LOG_LINES } from '../shared/control-protocol.js';
import { RocketError } from '../shared/errors.js';
import { childLineFormatter, ownBlockCounter } from './child-lines.js';
import { LineSplitter, MAX_LINE_LENGTH } from './line-splitter.js';
import type { LogOutput } from './output.js';
import { currentTarget, FileFollower } from './file-follower.js';
import { tailFile } from './file-tail.js';
import { LineRing } from './ring.js';
import type { RotatingFile } from './rotating-file.js';
import { openStdout } from './stdout-output.js';

/**
 * Lines are written in batches: once this much is waiting, or BATCH_MS after
 * the first line of a batch. At 50k requests/s that is one write per 64 KB
 * instead of one per access line.
 */
const BATCH_CHARS = 64 * 1024;
const BATCH_MS = 50;
/** The ring keeps the last MAX_LOG_LINES lines (what `logs --lines` may ask for) and at most 4 MB of text (10,000 access lines take about 2 MB). */
const RING_CHARS = 4 * 1024 * 1024;
/** How long closing waits for the output to take the last lines. */
const CLOSE_TIMEOUT_MS = 2000;

/**
 * The cluster's log, in the master: the master's own pino logger writes into
 * `stream`; each child's stdout and stderr are split into lines
 * (`attachChild`). A line is kept in a ring for `tail`, handed to `follow`
 * listeners, and written in batches to the output: stdout (JSON lines, or
 * pino-pretty's on a terminal) or rotating files.
 *
 * ```
 *  master pino ─────────────┐
 *  worker N stdout/stderr ──┤ lines ─▶ ring (tail) ─▶ followers ─▶ batch ─▶ stdout | <logDir>/<name>/<name>.<n>.log
 *  monitor stdout/stderr ───┘                                                           ▲
 *  worker N's own logger (access lines), with --log-dir ─── appended directly ─────────┘
 * ```
 *
 * With log files, workers append their own lines to the file themselves (as
 * nginx's and Gunicorn's workers do): at request rate, passing every access
 * line through the master's event loop cost more than writing it. The master
 * tells them each new file (`onChildLogFile`), and `read` then
 * takes the lines from the file, which is the only place that has them all.
 */
export class LogSink {
  /** The master's pino destination. */
  readonly stream: { write(text: string): void };
  readonly #output: LogOutput;
  readonly #pretty: ((line: string) => string) | null;
  /** Without log files only: with them, `read` reads the file. */
  readonly #ring: LineRing | null;
  readonly #files: RotatingFile | null;
  readonly #followers = new Set<(line: string) => void>();
  /** With log files: `logs --follow` readers of the file. */
  readonly #fileFollowers = new Set<FileFollower>();
  /**
   * Lines waiting to be written: strings without their newline, and blocks
   * as the bytes a child wrote them, with their newline (never with pretty
   * output, which takes no blocks).
   */
  #batch: (string | Buffer)[] = [];
  #batchChars = 0;
  #batchLines = 0;
  #timer: NodeJS.Timeout | null = null;
  /** The children's lost lines last reported (`childWritesFailed`). */
  #childDropped = 0;

  /**
   * `pretty`: formats a JSON line for a terminal (pino-pretty), or false for
   * JSON lines. `files`: the rotating files `output` writes, which workers
   * append to directly.
   */
  constructor(output: LogOutput, options: { pretty: false | ((line: string) => string); files?: RotatingFile }) {
    this.#output = output;
    this.#pretty = options.pretty || null;
    this.#files = options.files ?? null;
    this.#ring = this.#files ? null : new LineRing(MAX_LOG_LINES, RING_CHARS);
    this.stream = { write: (text) => this.write(text.endsWith('\n') ? text.slice(0, -1) : text) };
  }

  /** Logs one line (a JSON text, without its newline). */
  write(line: string): void {
    this.#ring?.push(line);
    this.#tell(line);
    this.#enqueue(line, 1);
  }

  /**
   * Logs `lines` whole lines, each already a JSON text, as UTF-8 bytes each
   * ending in a newline: a child's chunk, passed on without being decoded.
   */
  writeBlock(block: Buffer, lines: number): void {
    const text = block.subarray(0, block.length - 1);
    this.#ring?.pushBlock(text, lines);
    if (this.#followers.size > 0) for (const line of text.toString('utf8').split('\n')) this.#tell(line);
    this.#enqueue(block, lines);
  }

  #tell(line: string): void {
    for (const listener of this.#followers) {
      try {
        listener(line);
      } catch {
        this.#followers.delete(listener); // a broken reader must not break logging
      }
    }
  }

  #enqueue(text: string | Buffer, lines: number): void {
    this.#batch.push(text);
    this.#batchChars += text.length + (typeof text === 'string' ? 1 : 0);
    this.#batchLines += lines;
    if (this.#batchChars >= BATCH_CHARS) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  /**
   * Takes a child's piped stdout and stderr. They must be read for the child's
   * sake too: a child blocks once its pipe is full. A last line without its
   * newline is logged when the stream closes.
   */
  readonly attachChild = (child: ChildProcess, role: ChildRole, id: number): void => {
    const pid = child.pid;
    for (const name of ['stdout', 'stderr'] as const) {
      const stream = child[name];
      if (!stream) continue;
      if (pid === undefined) {
        stream.resume(); // the fork failed: its 'error' and 'exit' say so
        continue;
      }
      const format = childLineFormatter(role, id, pid, name);
      const ownBlock = ownBlockCounter(role, pid, MAX_LINE_LENGTH);
      const lines = new LineSplitter((line) => this.write(format(line)));
      stream.on('data', (chunk: Buffer) => {
        // A chunk of whole lines all from the child's own logger (a worker's access
        // lines, batched) is logged as one block of bytes: no string and no call per line.
        if (this.#pretty === null && lines.atLineStart && chunk[chunk.length - 1] === 0x0a) {
          const count = ownBlock(chunk.subarray(0, chunk.length - 1));
          if (count > 0) {
            this.writeBlock(chunk, count);
            return;
          }
        }
        lines.push(chunk);
      });
      stream.once('close', () => lines.end());
      stream.on('error', () => {}); // the child's exit is handled by its link
    }
  };

  /**
   * The last `lines` lines (at most MAX_LOG_LINES, fewer if they are long),
   * oldest first, and with `follow` every line after them until `stop()`.
   * With log files they are read from the file (the master's own pending
   * lines written first; a worker's reach it within a second, its flush
   * interval) and followed there.
   */
  async read(lines: number, follow: ((line: string) => void) | null): Promise<{ lines: string[]; stop(): void }> {
    if (this.#ring) {
      const tail = this.#ring.tail(lines);
      return { lines: tail, stop: follow ? this.#listen(follow) : () => {} };
    }
    const files = this.#files as RotatingFile;
    this.flush();
    await this.#output.settled();
    const file = currentTarget(files.link) ?? files.current();
    let size = 0;
    try {
      size = (await stat(file)).size;
    } catch {
      // moved away (external logrotate, before SIGUSR1): nothing to show yet
    }
    const tail = lines > 0 && size > 0 ? await tailFile(file, Math.min(lines, MAX_LOG_LINES), size) : [];
    if (!follow) return { lines: tail, stop: () => {} };
    const follower = new FileFollower(files.link, file, size, follow);
    follower.start();
    this.#fileFollowers.add(follower);
    return {
      lines: tail,
      stop: () => {
        follower.stop();
        this.#fileFollowers.delete(follower);
      },
    };
  }

  /** With log files, followers read every line written so far (before the cluster ends their streams). */
  async settleFollowers(): Promise<void> {
    if (this.#fileFollowers.size === 0) return;
    this.flush();
    await this.#output.settled();
    await Promise.all([...this.#fileFollowers].map((f) => f.finish()));
  }

  /** Calls `listener` with every line from now on, until the returned function is called. */
  #listen(listener: (line: string) => void): () => void {
    this.#followers.add(listener);
    return () => this.#followers.delete(listener);
  }

  /**
   * Children writing to the log file themselves have lost `dropped` lines in
   * all (a count that never goes down): warned about as the master's own
   * failures are, when it has grown since the last call.
   */
  childWritesFailed(reason: string, dropped: number): void {
    if (dropped <= this.#childDropped) return;
    this.#childDropped = dropped;
    this.#output.othersFailed(reason, dropped);
  }

  /** With log files, calls `listener` with the file children must append to after each rotation and reopen. */
  onChildLogFile(listener: (file: string) => void): void {
    this.#files?.onChange(listener);
  }

  /** SIGUSR1: opens the log file again by its name, after an external logrotate moved it away. */
  reopen(): void {
    this.flush();
    if (this.#files) this.#files.reopen();
    else this.#output.reopen();
  }

  stats(): LogStats {
    return { file: this.#output.file, written: this.#output.written, dropped: this.#output.dropped };
  }

  /** Hands the batch to the output now. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#batch.length === 0) return;
    const lines = this.#batch;
    const count = this.#batchLines;
    this.#batch = [];
    this.#batchChars = 0;
    this.#batchLines = 0;
    this.#output.write(this.#format(lines), count);
  }

  /** Writes what is left and closes the output; lines logged afterwards are counted as dropped. */
  close(): Promise<void> {
    this.flush();
    for (const follower of this.#fileFollowers) follower.stop();
    return this.#files ? this.#files.close(CLOSE_TIMEOUT_MS) : this.#output.close(CLOSE_TIMEOUT_MS);
  }

  /**
   * Pretty output (a terminal) never receives blocks: they are taken only when
   * it is off. Otherwise runs of lines become one string, and blocks are
   * copied as they are.
   */
  #format(parts: (string | Buffer)[]): string | Buffer {
    const pretty = this.#pretty;
    if (pretty !== null) return parts.map((line) => pretty(line as string)).join('');
    const out: Buffer[] = [];
    let run: string[] = [];
    for (const part of parts) {
      if (typeof part === 'string') {
        run.push(part);
        continue;
      }
      if (run.length > 0) out.push(Buffer.from(`${run.join('\n')}\n`));
      run = [];
      out.push(part);
    }
    if (run.length > 0) out.push(Buffer.from(`${run.join('\n')}\n`));
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }
}

/**
 * The sink for this cluster: with `logDir`, rotating files in
 * `<logDir>/<name>/`; else stdout, pretty when it is a terminal. Rejects when
 * the log directory cannot be created or written (RC_ERR_LOG_FILES).
 */
export async function openLogSink(config: ClusterConfig): Promise<LogSink> {
  const paths = clusterLogFiles(config);
  if (paths !== null) {
    const dir = paths.dir;
    let files: RotatingFile;
    try {
      const { openRotatingFile } = await import('./rotating-file.js'); // only with a log directory
      files = await openRotatingFile({ dir, base: config.name, maxSize: config.logMaxSize, retain: config.logRetain });
    } catch (error) {
      throw new RocketError('RC_ERR_LOG_FILES', `--log-dir ${JSON.stringify(config.logDir)}: cannot write log files in ${dir}: ${(error as Error).message}`);
    }
    return new LogSink(files.output, { pretty: false, files });
  }
  // pino-pretty is loaded only for a terminal: a master whose output is a file or a pipe never needs it.
  const pretty = tty.isatty(1) ? (await import('./pretty.js')).prettyLogLine() : false;
  return new LogSink(openStdout(), { pretty });
}
