import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { StatusReport } from '../../src/shared/status-report.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/rocket-cluster');
export const FIXTURES = path.join(ROOT, 'test/fixtures');

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

/** A real cluster (master, workers, monitor) started through the CLI on port 0. */
export interface Cluster {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  /**
   * This cluster's own HOME and XDG_RUNTIME_DIR (0700), so its control socket
   * and log files never meet another test's.
   */
  readonly home: string;
  readonly adminUrl: string;
  readonly logs: LogLine[];
  /** Everything the master wrote to stderr. */
  readonly stderr: () => string;
  readonly exited: Promise<Exit>;
  status(): Promise<StatusReport>;
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends a signal and waits for the master to exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

const running = new Set<Cluster>();

/** Kills every cluster a test file started and waits until each master is gone; children follow on IPC disconnect. */
export async function cleanupClusters(): Promise<void> {
  await Promise.all(
    [...running].map(async (c) => {
      if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
      await c.exited;
      fs.rmSync(c.home, { recursive: true, force: true });
    }),
  );
  running.clear();
}

export function fixture(name: string): string {
  return path.join(FIXTURES, name);
}

/**
 * Starts `rocket-cluster start <app> --listen 127.0.0.1:0 --admin 127.0.0.1:0 ...args`
 * and resolves once the master logs the address it bound. Rejects with the
 * master's output if it exits first.
 */
export async function startCluster(app: string, args: readonly string[] = [], options: { env?: NodeJS.ProcessEnv } = {}): Promise<Cluster> {
  const home = newHome();
  const child = spawn(process.execPath, [BIN, 'start', app, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...homeEnv(home), ...options.env },
  });
  const logs: LogLine[] = [];
  const waiters = new Set<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
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
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));

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
      void exited.then((e) => {
        if (!waiters.has(w)) return;
        waiters.delete(w);
        clearTimeout(timer);
        reject(new Error(`master exited (${e.code ?? e.signal}) before the log line; stderr: ${stderr}; logs: ${JSON.stringify(logs.slice(-5))}`));
      });
    });
  };

  const cluster: Cluster = {
    child,
    pid: child.pid!,
    port: 0,
    home,
    adminUrl: '',
    logs,
    stderr: () => stderr,
    exited,
    waitForLog,
    async status() {
      const res = await fetch(`${cluster.adminUrl}/status`);
      return (await res.json()) as StatusReport;
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  running.add(cluster);
  const admin = await waitForLog((l) => l.role === 'master' && l.msg === 'admin listening');
  const listening = await waitForLog((l) => l.role === 'master' && l.msg === 'listening');
  Object.assign(cluster, {
    adminUrl: admin.address as string,
    port: Number(String(listening.address).split(':').pop()),
  });
  return cluster;
}

/** A fresh private directory (0700) to serve as HOME and XDG_RUNTIME_DIR. */
export function newHome(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rc-home-'));
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
