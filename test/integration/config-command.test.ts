import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConfigReport } from '../../src/config/report.js';
import { runCli as runCliIn, type CliResult } from '../helpers/cli.js';
import { launch, newHome, whenListening } from '../helpers/cluster.js';

// A real config file, ROCKET_* variables and flags, through bin/rocket-cluster:
// each value comes from the highest source that gives it (flag > env > file > default).

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-config-cmd-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

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

/** `rocket-cluster ...args` in the config file's directory, in a fresh HOME. */
function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCliIn(newHome(), args, { cwd: dir, env });
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
    // Only FLAGS on the command line: listen and admin come from the file.
    const cluster = await whenListening(launch(['start', ...FLAGS], { cwd: dir, env: ENV }));
    const listening = cluster.logs.find((l) => l.role === 'master' && l.msg === 'listening')!;
    expect(String(listening.address)).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(listening.name).toBe('cfg-app');

    const status = await cluster.status();
    expect(status.name).toBe('cfg-app'); // file
    expect(status.pool).toMatchObject({ min: 1, max: 1 }); // flag --workers 1 over the file's workers: 2
    expect(status.queue.capacity).toBe(30); // flag over env (20) over file (10)
    expect(status.parked.capacity).toBe(44); // env over file (33)
    expect(await (await fetch(`http://127.0.0.1:${cluster.port}/`, { headers: { connection: 'close' } })).text()).toMatch(/^config-app \d+$/);

    expect((await cluster.stop('SIGTERM')).code).toBe(0);
  });
});
