import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, processTree } from './procfs.js';

/** A JSON log line from a server process; anything else it prints is kept as text. */
export type LogLine = Record<string, unknown> & { readonly msg?: string; readonly level?: number };

/** A server process the bench started, with its output and a way to stop it and its children. */
export interface Launched {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Every JSON line at pino level warn (40) or above: evidence of trouble in the server. */
  readonly problems: LogLine[];
  /** Lines that were not JSON, and stderr; bounded. */
  readonly otherOutput: string[];
  waitForLine(match: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine>;
  /** The process and its live descendants now; also remembered for stop(). */
  tree(): number[];
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 5000;
const KEEP_OUTPUT_LINES = 200;
const started = new Set<Launched>();

/**
 * Spawns `node <args>` with piped output. Output is read for the whole life of
 * the process: a server that logs into a full pipe would block, which would
 * show up as a throughput collapse rather than an error. `cleanup` runs once
 * the process has exited (for example, removing its temporary log directory).
 */
export function launch(label: string, args: readonly string[], opts: { readonly cleanup?: () => void } = {}): Launched {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${label}: spawn failed`);
  const pid = child.pid;
  const problems: LogLine[] = [];
  const otherOutput: string[] = [];
  const waiters = new Set<(line: LogLine) => void>();
  const keep = (s: string): void => {
    if (otherOutput.length < KEEP_OUTPUT_LINES) otherOutput.push(s);
  };
  readline.createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      keep(text);
      return;
    }
    // The warning of a master run as root without --user is about this machine's setup, not the run.
    const rootNotice = typeof line.msg === 'string' && line.msg.startsWith('running as root');
    if (typeof line.level === 'number' && line.level >= 40 && !rootNotice && problems.length < KEEP_OUTPUT_LINES) problems.push(line);
    for (const w of waiters) w(line);
  });
  readline.createInterface({ input: child.stderr! }).on('line', (text) => keep(`stderr: ${text}`));
  const exited = once(child, 'exit').then(() => undefined);
  // Remember the whole tree while it is alive: once the parent dies its
  // children are re-parented and can no longer be found from its pid.
  let knownTree: number[] = [pid];

  const launched: Launched = {
    pid,
    child,
    problems,
    otherOutput,
    async waitForLine(match, timeoutMs) {
      let onLine!: (line: LogLine) => void;
      const found = new Promise<LogLine>((resolve) => {
        onLine = (line) => match(line) && resolve(line);
        waiters.add(onLine);
      });
      const failed = Promise.race([
        sleep(timeoutMs, undefined, { ref: false }).then(() => `no matching line within ${timeoutMs} ms`),
        exited.then(() => `exited with ${child.exitCode ?? child.signalCode}`),
      ]).then((why) => {
        throw new Error(`${label}: ${why}; output: ${otherOutput.slice(-10).join(' | ')}`);
      });
      try {
        return await Promise.race([found, failed]);
      } finally {
        waiters.delete(onLine);
      }
    },
    tree() {
      const now = isAlive(pid) ? processTree(pid) : [];
      knownTree = [...new Set([...knownTree, ...now])];
      return now;
    },
    async stop() {
      started.delete(launched);
      launched.tree();
      signal(knownTree, 'SIGTERM');
      const deadline = Date.now() + STOP_GRACE_MS;
      while (Date.now() < deadline && knownTree.some(isAlive)) await sleep(50);
      signal(knownTree.filter(isAlive), 'SIGKILL');
      await exited;
      opts.cleanup?.();
    },
  };
  started.add(launched);
  return launched;
}

/** Stops every process still running, in parallel; used in `finally` and on SIGINT. */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((l) => l.stop()));
}

function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      // Already gone: exactly what we want.
    }
  }
}
