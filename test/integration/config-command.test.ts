import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConfigReport } from '../../src/config/report.js';
import type { StatusReport } from '../../src/shared/status-report.js';
import { homeEnv, newHome, type LogLine } from '../helpers/cluster.js';

// A real config file, ROCKET_* variables and flags, through bin/rocket-cluster:
// each value comes from the highest source that gives it (flag > env > file > default).

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/rocket-cluster');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-config-cmd-'));
const home = newHome();
const children: ChildProcess[] = [];
afterAll(async () => {
  await Promise.all(
    children.map(async (c) => {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      if (c.exitCode === null && c.signalCode === null) await once(c, 'exit');
    }),
  );
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(home, { recursive: true, force: true });
});

fs.writeFileSync(path.join(dir, 'app.mjs'), 'export default (req, res) => res.end(`config-app ${process.pid}`);\n');
fs.writeFileSync(
  path.join(dir, 'rocket.config.mjs'),
  `export default {
  name: 'cfg-app',
  app: './app.mjs',
  listen: '127.0.0.1:0',
  admin: '127.0.0.1:0',
  workers: 2,
  queueSize: 10,
  maxParked: 33,
  keepAliveTimeout: 6000,
};\n`,
);
const CONFIG_FILE = path.join(dir, 'rocket.config.mjs');
const ENV = { ROCKET_QUEUE_SIZE: '20', ROCKET_MAX_PARKED: '44', ROCKET_PORT: '8000' };
const FLAGS = ['--queue-size', '30', '--workers', '1'];

function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...homeEnv(home), ...env } });
  children.push(child);
  return child;
}

async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('rocket-cluster config', () => {
  it('prints the merged config of the file in the cwd, with each value\'s source, as JSON', async () => {
    const { code, stdout, stderr } = await runCli(['config', '--json', ...FLAGS], ENV);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as ConfigReport;
    expect(report.configFile).toBe(CONFIG_FILE);
    expect(report.ignoredEnv).toContainEqual({ variable: 'ROCKET_PORT', value: '8000' });
    const options = report.apps[0]!.options;
    expect(options.app).toEqual({ value: path.join(dir, 'app.mjs'), source: { kind: 'file', file: CONFIG_FILE, key: 'app' } });
    expect(options.queueSize).toEqual({ value: 30, source: { kind: 'flag', flag: '--queue-size' } });
    expect(options.maxParked).toEqual({ value: 44, source: { kind: 'env', variable: 'ROCKET_MAX_PARKED', raw: '44' } });
    expect(options.keepAliveTimeout).toEqual({ value: 6000, source: { kind: 'file', file: CONFIG_FILE, key: 'keepAliveTimeout' } });
    expect(options.minWorkers).toEqual({ value: 1, source: { kind: 'flag', flag: '--workers' } });
    expect(options.parkAfter).toEqual({ value: 1000, source: { kind: 'default' } });
  });

  it('prints a human table by default, and exits 2 on a bad variable', async () => {
    const table = await runCli(['config'], ENV);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ {2}maxParked +44 +env ROCKET_MAX_PARKED$/m);
    expect(table.stdout).toMatch(/^ {2}ROCKET_PORT=8000$/m);
    const bad = await runCli(['config'], { ROCKET_MIN_WORKERS: 'two' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('rocket-cluster: ROCKET_MIN_WORKERS="two": expected an integer from 1 to 256\n');
  });
});

describe('rocket-cluster start with a config file', () => {
  it('runs the file\'s app with env and flags on top (status and listening log show the merged values)', async () => {
    const child = spawnCli(['start', ...FLAGS], ENV);
    const logs: LogLine[] = [];
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    readline.createInterface({ input: child.stdout! }).on('line', (text) => {
      try {
        logs.push(JSON.parse(text) as LogLine);
      } catch {
        // not a log line
      }
    });
    const exited = once(child, 'exit');
    const logged = (msg: string) => logs.find((l) => l.role === 'master' && l.msg === msg);
    await expect.poll(() => (logged('listening') !== undefined && logged('admin listening') !== undefined) || child.exitCode !== null, { timeout: 20_000 }).toBe(true);
    expect(child.exitCode, stderr).toBeNull();
    expect(String(logged('listening')!.address)).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(logged('listening')!.name).toBe('cfg-app');

    const status = (await (await fetch(`${String(logged('admin listening')!.address)}/status`)).json()) as StatusReport;
    expect(status.name).toBe('cfg-app'); // file
    expect(status.pool).toMatchObject({ min: 1, max: 1 }); // flag --workers 1 over the file's workers: 2
    expect(status.queue.capacity).toBe(30); // flag over env (20) over file (10)
    expect(status.parked.capacity).toBe(44); // env over file (33)
    const port = String(logged('listening')!.address).split(':').pop();
    expect(await (await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } })).text()).toMatch(/^config-app \d+$/);

    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
  });
});
