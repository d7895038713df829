import { execFile } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { vi } from 'vitest';
import type { StatusResult } from '../../src/shared/control-protocol.js';
import { onCleanup } from './cleanup.js';
import { alive, homeEnv, newHome } from './cluster.js';
import { BIN, ROOT } from './paths.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `rocket-cluster ...args` to its end with HOME and XDG_RUNTIME_DIR set
 * to `home`. A command still running when the test ends is killed.
 */
export function runCli(home: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...homeEnv(home), ...options.env }, cwd: options.cwd ?? ROOT, timeout: options.timeoutMs ?? 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    const exited = once(child, 'exit');
    onCleanup(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    });
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

/**
 * Starts a daemon on 127.0.0.1:0 in a fresh HOME (or the given one); rejects
 * with its output if start fails. When the test ends the daemon is killed
 * (SIGKILL; its workers and monitor exit when its IPC channel closes) and
 * waited for.
 */
export async function startDaemon(app: string, args: readonly string[] = [], home = newHome()): Promise<Daemon> {
  const start = await runCli(home, ['start', app, '--daemon', '--listen', '127.0.0.1:0', ...args]);
  if (start.code !== 0) throw new Error(`start --daemon exited ${start.code}: ${start.stderr}${start.stdout}`);
  const match = /^started (\S+) \(pid (\d+)\)/m.exec(start.stdout);
  if (!match) throw new Error(`unexpected start output: ${start.stdout}`);
  const name = match[1] as string;
  const pid = Number(match[2]);
  onCleanup(() => killDaemon(pid));
  const d: Daemon = {
    home,
    name,
    pid,
    port: 0,
    start,
    async status() {
      const r = await runCli(home, ['status', name, '--json']);
      if (r.code !== 0) throw new Error(`status exited ${r.code}: ${r.stderr}`);
      return JSON.parse(r.stdout) as StatusResult;
    },
  };
  const listening = (await d.status()).status.listening[0] as string;
  Object.assign(d, { port: Number(listening.split(':').pop()) });
  return d;
}

/**
 * SIGKILLs a daemon's master, then checks that its children (workers, the
 * monitor) leave on their own, as they must when their master is gone. One
 * still running after 10 s is killed, and the test fails naming it.
 */
async function killDaemon(pid: number): Promise<void> {
  if (!alive(pid)) return;
  const children = childPids(pid);
  process.kill(pid, 'SIGKILL');
  // Not our child: no exit event to wait on, only its pid going away.
  await vi.waitFor(
    () => {
      if (alive(pid)) throw new Error(`daemon ${pid} still running after SIGKILL`);
    },
    { timeout: 10_000, interval: 20 },
  );
  try {
    await vi.waitFor(
      () => {
        const left = children.filter(running);
        if (left.length > 0) throw new Error(`children ${left.join(', ')} of SIGKILLed daemon ${pid} still running`);
      },
      { timeout: 10_000, interval: 50 },
    );
  } catch (error) {
    for (const child of children.filter(running)) process.kill(child, 'SIGKILL');
    throw error;
  }
}

/** Exists and is not a zombie (an orphan's zombie waits for init to reap it). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The pids whose parent is `pid`, from /proc. */
function childPids(pid: number): number[] {
  return fs.readdirSync('/proc').flatMap((name) => {
    if (!/^\d+$/.test(name)) return [];
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid ? [Number(name)] : [];
    } catch {
      return []; // gone meanwhile
    }
  });
}
