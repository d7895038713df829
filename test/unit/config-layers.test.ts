import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveApps, singleApp, type AppRequest } from '../../src/config/resolve-apps.js';
import type { ConfigReport } from '../../src/config/report.js';
import { cli, dirWith, removeDirs } from './config-helpers.js';

afterAll(removeDirs);

const APP = 'export default (req, res) => res.end("ok");\n';
const TWO_APPS = `export default { apps: [
  { name: 'api', app: './api.mjs', workers: 2, queueSize: 10, maxParked: 33, listen: 'unix:./api.sock', logDir: 'logs' },
  { name: 'web', app: './web.mjs', minWorkers: 1, maxWorkers: 3 },
] };`;

function request(cwd: string, more: Partial<AppRequest> = {}): AppRequest {
  return { flags: {}, env: {}, cwd, ...more };
}

describe('precedence: flags > environment > config file > defaults', () => {
  it('merges the four layers and records where each value came from', async () => {
    const dir = dirWith({ 'api.mjs': APP, 'web.mjs': APP, 'rocket.config.mjs': TWO_APPS });
    const file = path.join(dir, 'rocket.config.mjs');
    const { apps, configFile } = await resolveApps(
      request(dir, { app: 'api', env: { ROCKET_QUEUE_SIZE: '20', ROCKET_MAX_PARKED: '44' }, flags: { queueSize: 30, accessLog: false } }),
    );
    expect(configFile).toBe(file);
    const [api] = apps;
    expect(api?.config).toMatchObject({ name: 'api', app: path.join(dir, 'api.mjs'), queueSize: 30, maxParked: 44, minWorkers: 2, maxWorkers: 2, accessLog: false, parkAfter: 1000 });
    expect(api?.sources).toMatchObject({
      queueSize: { kind: 'flag', flag: '--queue-size' },
      maxParked: { kind: 'env', variable: 'ROCKET_MAX_PARKED', raw: '44' },
      minWorkers: { kind: 'file', file, key: 'apps[0].workers' },
      maxWorkers: { kind: 'file', file, key: 'apps[0].workers' },
      parkAfter: { kind: 'default' },
      accessLog: { kind: 'flag', flag: '--access-log' },
    });
  });

  it('a higher layer\'s --workers replaces a lower layer\'s bounds; a higher bound moves one bound of a fixed pool', async () => {
    const dir = dirWith({ 'api.mjs': APP, 'web.mjs': APP, 'rocket.config.mjs': TWO_APPS });
    const web = await resolveApps(request(dir, { app: 'web', flags: { workers: 1 } }));
    expect(web.apps[0]?.config).toMatchObject({ minWorkers: 1, maxWorkers: 1 });
    const api = await resolveApps(request(dir, { app: 'api', env: { ROCKET_MAX_WORKERS: '4' } }));
    expect(api.apps[0]?.config).toMatchObject({ minWorkers: 2, maxWorkers: 4 });
  });

  it('relative paths: from a file against its directory, from flags and env against the cwd', async () => {
    const dir = dirWith({ 'api.mjs': APP, 'web.mjs': APP, 'rocket.config.mjs': TWO_APPS });
    const cwd = dirWith({});
    const fromFile = await resolveApps(request(cwd, { app: 'api', configPath: path.join(dir, 'rocket.config.mjs') }));
    expect(fromFile.apps[0]?.config.listen).toEqual([{ kind: 'unix', path: path.join(dir, 'api.sock') }]);
    expect(fromFile.apps[0]?.config.logDir).toBe(path.join(dir, 'logs'));
    const fromFlags = await resolveApps(
      request(cwd, { app: 'api', configPath: path.join(dir, 'rocket.config.mjs'), flags: { listen: ['unix:run/a.sock'] }, env: { ROCKET_LOG_DIR: 'var/log' } }),
    );
    expect(fromFlags.apps[0]?.config.listen).toEqual([{ kind: 'unix', path: path.join(cwd, 'run/a.sock') }]);
    expect(fromFlags.apps[0]?.config.logDir).toBe(path.join(cwd, 'var/log'));
  });
});

describe('environment variables', () => {
  it('parses numbers, booleans and comma-separated lists; an empty variable is unset', async () => {
    const dir = dirWith({});
    const { apps } = await resolveApps(
      request(dir, { app: 'a.js', env: { ROCKET_LISTEN: '127.0.0.1:0, [::1]:0', ROCKET_ACCESS_LOG: 'false', ROCKET_ELU_FULL: '0.5', ROCKET_WORKERS: '' } }),
    );
    expect(apps[0]?.config.listen.map((l) => (l.kind === 'tcp' ? l.host : l.path))).toEqual(['127.0.0.1', '::1']);
    expect(apps[0]?.config).toMatchObject({ accessLog: false, eluFull: 0.5, minWorkers: 1 });
    expect(apps[0]?.sources.minWorkers).toEqual({ kind: 'default' });
  });

  it('ignores internal ROCKET_CLUSTER_* variables silently and lists other unknown ROCKET_* ones', async () => {
    const env = { ROCKET_CLUSTER_ROLE: 'worker', ROCKET_CLUSTER_CONFIG: '{}', ROCKET_PORT: '8000', ROCKET_WROKERS: '3', HOME: '/root' };
    const { ignoredEnv } = await resolveApps(request(dirWith({}), { app: 'a.js', env }));
    expect(ignoredEnv).toEqual([
      { variable: 'ROCKET_PORT', value: '8000' },
      { variable: 'ROCKET_WROKERS', value: '3', suggestion: 'ROCKET_WORKERS' },
    ]);
  });
});

describe('config files', () => {
  it('finds rocket.config.{js,cjs,json} in the cwd; a function export is called', async () => {
    const cjs = dirWith({ 'api.js': APP, 'rocket.config.cjs': 'module.exports = () => ({ app: "./api.js", workers: 3 });' });
    expect((await resolveApps(request(cjs))).apps[0]?.config).toMatchObject({ name: 'api', minWorkers: 3 });
    const json = dirWith({ 'api.js': APP, 'rocket.config.json': '{ "app": "./api.js", "listen": "127.0.0.1:0" }' });
    expect((await resolveApps(request(json))).apps[0]?.config.listen).toEqual([{ kind: 'tcp', host: '127.0.0.1', port: 0 }]);
    const js = dirWith({ 'api.js': APP, 'package.json': '{ "type": "module" }', 'rocket.config.js': 'export default async () => ({ app: "./api.js", name: "js" });' });
    expect((await resolveApps(request(js))).apps[0]?.config.name).toBe('js');
  });

  it('no [app]: every app of the file, in file order; `start` needs exactly one', async () => {
    const dir = dirWith({ 'api.mjs': APP, 'web.mjs': APP, 'rocket.config.mjs': TWO_APPS });
    const resolved = await resolveApps(request(dir));
    expect(resolved.apps.map((a) => a.config.name)).toEqual(['api', 'web']);
    expect(() => singleApp(resolved)).toThrow(/several apps in .* \(api, web\): name one/);
    const one = dirWith({ 'api.mjs': APP, 'rocket.config.mjs': 'export default { app: "./api.mjs" };' });
    expect(singleApp(await resolveApps(request(one))).config.name).toBe('api');
  });

  it('[app] as a path uses the file\'s settings only for that module', async () => {
    const dir = dirWith({ 'api.mjs': APP, 'web.mjs': APP, 'other.mjs': APP, 'rocket.config.mjs': TWO_APPS });
    const byPath = await resolveApps(request(dir, { app: './web.mjs' }));
    expect(byPath.apps[0]?.config).toMatchObject({ name: 'web', maxWorkers: 3 });
    const other = await resolveApps(request(dir, { app: 'other.mjs' }));
    expect(other.apps[0]?.config).toMatchObject({ name: 'other', minWorkers: 1 });
    expect(other.apps[0]?.sources.app).toEqual({ kind: 'argument' });
  });

  it('a single app object without `app` holds settings for the module the command line names', async () => {
    const dir = dirWith({ 'x.mjs': APP, 'rocket.config.json': '{ "workers": 2 }' });
    const { apps } = await resolveApps(request(dir, { app: 'x.mjs' }));
    expect(apps[0]?.config).toMatchObject({ name: 'x', minWorkers: 2, maxWorkers: 2 });
  });
});

describe('rocket-cluster config', () => {
  it('--json: each app\'s values with their sources, and the ignored variables', async () => {
    const dir = dirWith({ 'api.mjs': APP, 'web.mjs': APP, 'c.mjs': TWO_APPS });
    const r = await cli(['config', '--config', path.join(dir, 'c.mjs'), '--json', '--request-timeout', '0']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as ConfigReport;
    expect(report.configFile).toBe(path.join(dir, 'c.mjs'));
    expect(report.apps.map((a) => a.name)).toEqual(['api', 'web']);
    expect(report.apps[1]?.options.maxWorkers).toEqual({ value: 3, source: { kind: 'file', file: path.join(dir, 'c.mjs'), key: 'apps[1].maxWorkers' } });
    expect(report.apps[0]?.options.requestTimeout).toEqual({ value: 0, source: { kind: 'flag', flag: '--request-timeout' } });
    expect(report.apps[0]?.options.admin).toEqual({ value: null, source: { kind: 'default' } });
  });

  it('prints a table per app with each value\'s source', async () => {
    const dir = dirWith({ 'api.mjs': APP, 'web.mjs': APP, 'c.mjs': TWO_APPS });
    const r = await cli(['config', 'web', '--config', path.join(dir, 'c.mjs'), '-l', '127.0.0.1:0']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('app web\n');
    expect(r.stdout).not.toContain('app api\n');
    expect(r.stdout).toMatch(/^ {2}listen +127\.0\.0\.1:0 +flag --listen$/m);
    expect(r.stdout).toMatch(new RegExp(`^ {2}maxWorkers +3 +file ${path.join(dir, 'c.mjs').replace(/\./g, '\\.')} \\(apps\\[1\\]\\.maxWorkers\\)$`, 'm'));
    expect(r.stdout).toMatch(/^ {2}queueSize +1024 +default$/m);
  });
});
