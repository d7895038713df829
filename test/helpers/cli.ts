import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StatusResult } from '../../src/shared/control-protocol.js';
import { alive, homeEnv, newHome } from './cluster.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/rocket-cluster');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `rocket-cluster ...args` to its end with HOME and XDG_RUNTIME_DIR set to `home`. */
export function runCli(home: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...homeEnv(home), ...options.env }, cwd: options.cwd ?? ROOT, timeout: options.timeoutMs ?? 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A cluster started with `start --daemon`: it is not our child, so it is tracked by pid. */
export interface Daemon {
  readonly home: string;
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly start: CliResult;
  status(): Promise<StatusResult>;
}

const daemons = new Set<Daemon>();

/** Starts a daemon on 127.0.0.1:0 in a fresh HOME (or the given one); rejects with its output if start fails. */
export async function startDaemon(app: string, args: readonly string[] = [], home = newHome()): Promise<Daemon> {
  const start = await runCli(home, ['start', app, '--daemon', '--listen', '127.0.0.1:0', ...args]);
  if (start.code !== 0) throw new Error(`start --daemon exited ${start.code}: ${start.stderr}${start.stdout}`);
  const match = /^started (\S+) \(pid (\d+)\)/m.exec(start.stdout);
  if (!match) throw new Error(`unexpected start output: ${start.stdout}`);
  const name = match[1] as string;
  const d: Daemon = {
    home,
    name,
    pid: Number(match[2]),
    port: 0,
    start,
    async status() {
      const r = await runCli(home, ['status', name, '--json']);
      if (r.code !== 0) throw new Error(`status exited ${r.code}: ${r.stderr}`);
      return JSON.parse(r.stdout) as StatusResult;
    },
  };
  daemons.add(d);
  const listening = (await d.status()).status.listening[0] as string;
  Object.assign(d, { port: Number(listening.split(':').pop()) });
  return d;
}

/** Kills every daemon a test file started, with its workers and monitor (they exit when the master's IPC closes). */
export async function cleanupDaemons(): Promise<void> {
  for (const d of daemons) {
    if (alive(d.pid)) process.kill(d.pid, 'SIGKILL');
    await waitUntil(() => !alive(d.pid), 10_000);
    fs.rmSync(d.home, { recursive: true, force: true });
  }
  daemons.clear();
}

/** Polls `check` (a process's liveness has no event to wait on here) until true or the deadline. */
async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
