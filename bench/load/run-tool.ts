import { spawn } from 'node:child_process';

/**
 * Runs a load generator to completion and returns its stdout. The deadline is
 * the run's own duration plus slack: a generator stuck on a dead server must
 * not hang the bench.
 */
export async function runTool(command: string, args: readonly string[], deadlineMs: number): Promise<string> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c, s) => resolve([c, s]));
    });
    if (code !== 0) throw new Error(`${command} exited with ${code ?? signal}: ${err.trim() || out.trim()}`);
    return out;
  } finally {
    clearTimeout(timer);
  }
}
