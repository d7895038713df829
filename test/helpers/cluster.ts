import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { expect } from 'vitest';
import type { StatusReport } from '../../src/shared/status-report.js';
import { onCleanup } from './cleanup.js';
import { BIN } from './paths.js';

export { FIXTURES, fixture } from './paths.js';

export interface LogLine {
  readonly level: number;
  readonly role: string;
  readonly pid: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A `rocket-cluster` process a test started, with everything it wrote. */
export interface Launched {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Its HOME and XDG_RUNTIME_DIR (0700), so its control socket and log files never meet another test's. */
  readonly home: string;
  /** Every JSON line it wrote on stdout, in order (other lines are an app's own output). */
  readonly logs: LogLine[];
  /** Everything it wrote to stdout. */
  readonly stdout: () => string;
  /** Everything it wrote to stderr. */
  readonly stderr: () => string;
  readonly exited: Promise<Exit>;
  /**
   * It has exited and what it wrote has been read: its stdout and stderr have
   * ended, or 5 s have passed since the exit (a child that outlived it may
   * hold them open). Lines written just before the exit are not all in at 'exit'.
   */
  readonly finished: Promise<Exit>;
  /** The first log line that matches, already written or still to come; rejects if the process exits first. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends a signal to the process itself (not its group) and waits for its exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

export interface LaunchOptions {
  /** HOME and XDG_RUNTIME_DIR; by default a fresh private one, removed when the test ends. */
  readonly home?: string;
  /** Added to the environment, over HOME and XDG_RUNTIME_DIR. */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Its own process group, like a shell job, so that a test can signal the group; the cleanup kills the whole group. */
  readonly detached?: boolean;
  /**
   * Descriptors it gets as 3, 4, … with LISTEN_PID set to its own pid, as
   * systemd's socket activation does: a shell sets it to `$$` and execs the
   * master in its place. The test sets LISTEN_FDS (and LISTEN_FDNAMES) in `env`.
   */
  readonly passFds?: readonly number[];
  /** Words before `node bin/rocket-cluster …`: a program that execs the master in its own place (its pid is the master's). */
  readonly wrap?: readonly string[];
}

/**
 * Runs `rocket-cluster ...args` (a master with `start`, or any other command
 * that runs until told to stop) and collects its output. Registered for
 * cleanup as soon as it is spawned: when the test ends (see onCleanup) a
 * process still running is killed with SIGKILL (its group, if detached; the
 * children of a master exit when its IPC channel closes) and waited for.
 */
export function launch(args: readonly string[], options: LaunchOptions = {}): Launched {
  const home = options.home ?? newHome();
  const argv = [...(options.wrap ?? []), process.execPath, BIN, ...args];
  const [file, ...rest] = options.passFds ? ['/bin/sh', '-c', 'export LISTEN_PID=$$; exec "$@"', 'sh', ...argv] : argv;
  const child = spawn(file!, rest, {
    stdio: ['ignore', 'pipe', 'pipe', ...(options.passFds ?? [])],
    cwd: options.cwd,
    detached: options.detached ?? false,
    env: { ...process.env, ...homeEnv(home), ...options.env },
  });
  const toExit = ([code, signal]: unknown[]): Exit => ({ code: code as number | null, signal: signal as NodeJS.Signals | null });
  const exited = once(child, 'exit').then(toExit);
  const closed = once(child, 'close').catch(() => undefined); // rejects only on a spawn error, which `exited` reports
  const finished = exited.then(async (exit) => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
    clearTimeout(timer);
    return exit;
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  onCleanup(async () => {
    if (running()) {
      if (options.detached) process.kill(-child.pid!, 'SIGKILL');
      else child.kill('SIGKILL');
    }
    await exited;
  });

  const logs: LogLine[] = [];
  const waiters = new Set<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  readline.createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return; // an app's own console output
    }
    logs.push(line);
    for (const w of waiters) {
      if (w.match(line)) {
        waiters.delete(w);
        w.resolve(line);
      }
    }
  });

  const waitForLog = (match: (l: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> => {
    const seen = logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { match, resolve: (l: LogLine) => (clearTimeout(timer), resolve(l)) };
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr}`));
      }, timeoutMs);
      waiters.add(w);
      void finished.then((e) => {
        if (!waiters.has(w)) return;
        waiters.delete(w);
        clearTimeout(timer);
        reject(new Error(`process exited (${e.code ?? e.signal}) before the log line; stderr: ${stderr}; logs: ${JSON.stringify(logs.slice(-5))}`));
      });
    });
  };

  return {
    child,
    pid: child.pid!,
    home,
    logs,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    finished,
    waitForLog,
    async stop(signal = 'SIGTERM') {
      if (running()) child.kill(signal);
      return exited;
    },
  };
}

/** A real cluster (master, workers, monitor) that is listening. */
export interface Cluster extends Launched {
  /** The port of its first --listen address. */
  readonly port: number;
  /** The admin listener's base URL (/status, /metrics, the dashboard). */
  readonly adminUrl: string;
  status(): Promise<StatusReport>;
}

/**
 * Resolves once a launched `start` has logged its admin address and then the
 * address it listens on; rejects with its output if it exits first.
 */
export async function whenListening(master: Launched): Promise<Cluster> {
  const admin = await master.waitForLog((l) => l.role === 'master' && l.msg === 'admin listening');
  const listening = await master.waitForLog((l) => l.role === 'master' && l.msg === 'listening');
  const adminUrl = String(admin.address);
  return {
    ...master,
    port: Number(String(listening.address).split(':').pop()),
    adminUrl,
    async status() {
      const res = await fetch(`${adminUrl}/status`);
      return (await res.json()) as StatusReport;
    },
  };
}

/**
 * Starts `rocket-cluster start <app> --listen 127.0.0.1:0 --admin 127.0.0.1:0 ...args`
 * (see launch) and resolves once it listens. Rejects with the master's
 * output if it exits first.
 */
export function startCluster(app: string, args: readonly string[] = [], options: LaunchOptions = {}): Promise<Cluster> {
  return whenListening(launch(['start', app, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', ...args], options));
}

/** A fresh private directory (0700) to serve as HOME and XDG_RUNTIME_DIR, removed when the test ends. */
export function newHome(): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-home-'));
  onCleanup(() => fs.rmSync(home, { recursive: true, force: true }));
  return home;
}

export function homeEnv(home: string): NodeJS.ProcessEnv {
  return { HOME: home, XDG_RUNTIME_DIR: home };
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves once the monitor holds `count` sockets, none of them still in
 * flight: a park the monitor has not acknowledged is closed as refused, not
 * lost, if the monitor dies, so tests about what it held wait for this.
 */
export async function parkedAndHeld(cluster: Cluster, count: number): Promise<void> {
  await expect
    .poll(async () => {
      const { parked } = await cluster.status();
      return { count: parked.count, inFlight: parked.inFlight };
    }, { timeout: 10_000 })
    .toEqual({ count, inFlight: 0 });
}
