import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import tty from 'node:tty';
import type { ChildRole } from '../shared/child-env.js';
import type { LogStats } from '../shared/status-report.js';
import type { ClusterConfig } from '../shared/config.js';
import { MAX_LOG_LINES } from '../shared/control-protocol.js';
import { RocketError } from '../shared/errors.js';
import { childLineFormatter, ownBlockCounter } from './child-lines.js';
import { LineSplitter, MAX_LINE_LENGTH } from './line-splitter.js';
import type { LogOutput } from './output.js';
import { LineRing } from './ring.js';
import { openStdout } from './stdout-output.js';

/**
 * Lines are written in batches: once this much is waiting, or BATCH_MS after
 * the first line of a batch. At 50k requests/s that is one write per 64 KB
 * instead of one per access line.
 */
const BATCH_CHARS = 64 * 1024;
const BATCH_MS = 50;
/** The ring keeps the last MAX_LOG_LINES lines (what `logs --lines` may ask for) and at most 8 MB of text. */
const RING_CHARS = 8 * 1024 * 1024;
/** How long closing waits for the output to take the last lines. */
const CLOSE_TIMEOUT_MS = 2000;

/**
 * Every log line of the cluster passes here, in the master: the master's own
 * pino logger writes into `stream`; each child's stdout and stderr are split
 * into lines (`attachChild`). A line is kept in a ring for `tail`, handed to
 * `follow` listeners, and written in batches to the output: stdout (JSON
 * lines, or pino-pretty's on a terminal) or rotating files.
 *
 * ```
 *  master pino ─────────────┐
 *  worker N stdout/stderr ──┤ lines ─▶ ring (tail) ─▶ followers ─▶ batch ─▶ stdout | <logDir>/<name>/<name>.<n>.log
 *  monitor stdout/stderr ───┘
 * ```
 */
export class LogSink {
  /** The master's pino destination. */
  readonly stream: { write(text: string): void };
  readonly #output: LogOutput;
  readonly #pretty: ((line: string) => string) | null;
  readonly #ring = new LineRing(MAX_LOG_LINES, RING_CHARS);
  readonly #followers = new Set<(line: string) => void>();
  /** Lines and blocks of lines waiting to be written, each without its last newline. */
  #batch: string[] = [];
  #batchChars = 0;
  #batchLines = 0;
  #timer: NodeJS.Timeout | null = null;

  /** `pretty`: formats a JSON line for a terminal (pino-pretty), or false for JSON lines. */
  constructor(output: LogOutput, options: { pretty: false | ((line: string) => string) }) {
    this.#output = output;
    this.#pretty = options.pretty || null;
    this.stream = { write: (text) => this.write(text.endsWith('\n') ? text.slice(0, -1) : text) };
  }

  /** Logs one line (a JSON text, without its newline). */
  write(line: string): void {
    this.#ring.push(line);
    this.#tell(line);
    this.#enqueue(line, 1);
  }

  /** Logs `lines` whole lines joined by `\n` (no final newline), each already a JSON text. */
  writeBlock(text: string, lines: number): void {
    this.#ring.pushBlock(text, lines);
    if (this.#followers.size > 0) for (const line of text.split('\n')) this.#tell(line);
    this.#enqueue(text, lines);
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

  #enqueue(text: string, lines: number): void {
    this.#batch.push(text);
    this.#batchChars += text.length + 1;
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
        // lines, batched) is logged as one block: no string and no call per line.
        if (this.#pretty === null && lines.atLineStart && chunk[chunk.length - 1] === 0x0a) {
          const block = chunk.toString('utf8', 0, chunk.length - 1);
          const count = ownBlock(block);
          if (count > 0) {
            this.writeBlock(block, count);
            return;
          }
        }
        lines.push(chunk);
      });
      stream.once('close', () => lines.end());
      stream.on('error', () => {}); // the child's exit is handled by its link
    }
  };

  /** The last `n` lines (at most MAX_LOG_LINES, fewer if they are long), oldest first. */
  tail(n: number): string[] {
    return this.#ring.tail(n);
  }

  /** Calls `listener` with every line from now on, until the returned function is called. */
  follow(listener: (line: string) => void): () => void {
    this.#followers.add(listener);
    return () => this.#followers.delete(listener);
  }

  /** SIGUSR1: opens the log file again by its name, after an external logrotate moved it away. */
  reopen(): void {
    this.flush();
    this.#output.reopen();
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
    return this.#output.close(CLOSE_TIMEOUT_MS);
  }

  /** Pretty output (a terminal) never receives blocks: they are taken only when it is off. */
  #format(lines: string[]): string {
    const pretty = this.#pretty;
    if (pretty === null) return `${lines.join('\n')}\n`;
    return lines.map((line) => pretty(line)).join('');
  }
}

/**
 * The sink for this cluster: with `logDir`, rotating files in
 * `<logDir>/<name>/`; else stdout, pretty when it is a terminal. Rejects when
 * the log directory cannot be created or written (RC_ERR_LOG_FILES).
 */
export async function openLogSink(config: ClusterConfig): Promise<LogSink> {
  if (config.logDir !== undefined) {
    const dir = path.join(config.logDir, config.name);
    let output: LogOutput;
    try {
      const { openRotatingFile } = await import('./rotating-file.js'); // pino-roll: only with a log directory
      output = await openRotatingFile({ dir, base: config.name, maxSize: config.logMaxSize, retain: config.logRetain });
    } catch (error) {
      throw new RocketError('RC_ERR_LOG_FILES', `--log-dir ${JSON.stringify(config.logDir)}: cannot write log files in ${dir}: ${(error as Error).message}`);
    }
    return new LogSink(output, { pretty: false });
  }
  // pino-pretty is loaded only for a terminal: a master whose output is a file or a pipe never needs it.
  const pretty = tty.isatty(1) ? (await import('./pretty.js')).prettyLogLine() : false;
  return new LogSink(openStdout(), { pretty });
}
