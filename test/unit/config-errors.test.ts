import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveApps, type AppRequest } from '../../src/config/resolve-apps.js';
import { cli, dirWith, errorOf, removeDirs } from './config-helpers.js';

// Every config error names where the value came from (flag, variable, or key
// and file), the bad value, and what is expected; the CLI exits 2 with it.

afterAll(removeDirs);

const APP = 'export default (req, res) => res.end("ok");\n';

function request(cwd: string, more: Partial<AppRequest> = {}): AppRequest {
  return { app: undefined, flags: {}, env: {}, cwd, ...more } as AppRequest;
}

async function fileError(name: string, content: string, more: Partial<AppRequest> = {}) {
  const dir = dirWith({ 'api.mjs': APP, [name]: content });
  return { dir, file: path.join(dir, name), error: await errorOf(() => resolveApps(request(dir, more))) };
}

describe('config errors: values', () => {
  it('bad type in a file names the key, the file, the value and the expectation', async () => {
    const { file, error } = await fileError('rocket.config.mjs', 'export default { app: "./api.mjs", workers: "4" };');
    expect(error.code).toBe('RC_ERR_CONFIG_INVALID');
    expect(error.message).toBe(`workers "4" (in ${file}): expected an integer from 1 to 256`);
  });

  it('bad type in a flag shows what was typed, not NaN', async () => {
    const r = await cli(['config', 'api.mjs', '--workers', 'two']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('rocket-cluster: --workers "two": expected an integer from 1 to 256\n');
  });

  it('out of range, from a file of several apps, names the app entry', async () => {
    const { file, error } = await fileError('rocket.config.mjs', 'export default { apps: [{ app: "./api.mjs" }, { name: "b", app: "./api.mjs", maxWorkers: 999 }] };');
    expect(error.message).toBe(`apps[1].maxWorkers 999 (in ${file}): expected an integer from 1 to 256`);
  });

  it('bad environment value names the variable, its text and the expectation', async () => {
    const dir = dirWith({});
    const e = await errorOf(() => resolveApps(request(dir, { app: 'a.js', env: { ROCKET_MIN_WORKERS: 'two' } })));
    expect(e.message).toBe('ROCKET_MIN_WORKERS="two": expected an integer from 1 to 256');
    const b = await errorOf(() => resolveApps(request(dir, { app: 'a.js', env: { ROCKET_ACCESS_LOG: 'yes' } })));
    expect(b.message).toBe('ROCKET_ACCESS_LOG="yes": expected true or false');
    const f = await errorOf(() => resolveApps(request(dir, { app: 'a.js', env: { ROCKET_ELU_FULL: '1.5' } })));
    expect(f.message).toBe('ROCKET_ELU_FULL="1.5": expected a number above 0 and at most 1');
  });

  it('bad listen address: flag, environment list item and file', async () => {
    const dir = dirWith({});
    expect((await cli(['config', 'a.js', '--listen', 'localhost'])).stderr).toBe(
      'rocket-cluster: --listen "localhost": expected host:port, http://host:port, https://host:port, [v6]:port or unix:/path, for example 127.0.0.1:8080\n',
    );
    const env = await errorOf(() => resolveApps(request(dir, { app: 'a.js', env: { ROCKET_LISTEN: '127.0.0.1:80,[::1]:99999' } })));
    expect(env.message).toBe('ROCKET_LISTEN="127.0.0.1:80,[::1]:99999" (item "[::1]:99999"): port must be 0 to 65535');
    const { file, error } = await fileError('rocket.config.json', '{ "app": "./api.mjs", "listen": ["127.0.0.1:0", 8080] }');
    expect(error.message).toBe(`listen 8080 (in ${file}): expected an address (host:port, https://host:port, [v6]:port or unix:/path) or { address, tlsCert, tlsKey, … }`);
  });

  it('bad log-max-size', async () => {
    expect((await cli(['config', 'a.js', '--log-max-size', '10MB'])).stderr).toContain('--log-max-size "10MB": expected a size such as 500k, 10m or 1g');
    const e = await errorOf(() => resolveApps(request(dirWith({}), { app: 'a.js', env: { ROCKET_LOG_MAX_SIZE: '1t' } })));
    expect(e.message).toBe('ROCKET_LOG_MAX_SIZE="1t": expected a size such as 500k, 10m or 1g');
  });

  it('unknown file key, with the closest option', async () => {
    const { file, error } = await fileError('rocket.config.mjs', 'export default { apps: [{ app: "./api.mjs", keepAliveTimout: 3000 }] };');
    expect(error.message).toBe(`${file}: unknown option "apps[0].keepAliveTimout": did you mean "keepAliveTimeout"? (options: docs/CONFIG.md)`);
    const kebab = await fileError('rocket.config.json', '{ "app": "./api.mjs", "min-workers": 2 }');
    expect(kebab.error.message).toContain('unknown option "min-workers": did you mean "minWorkers"?');
    const far = await fileError('rocket.config.json', '{ "app": "./api.mjs", "colour": "blue" }');
    expect(far.error.message).toBe(`${far.file}: unknown option "colour" (options: docs/CONFIG.md)`);
  });

  it('unknown flag (yargs strict) is exit 2, and the command no longer runs anyway', async () => {
    const r = await cli(['config', 'a.js', '--wrokers', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^rocket-cluster: Unknown argument: wrokers\n/);
    expect(r.stdout).toBe(''); // the config report was printed after the error before
  });
});

describe('config errors: options that depend on each other', () => {
  it('workers with min/max in one source; across sources the higher one wins', async () => {
    expect((await cli(['config', 'a.js', '--workers', '2', '--max-workers', '4'])).stderr).toBe(
      'rocket-cluster: --workers 2 fixes the pool size: give either --workers, or --min-workers and --max-workers\n',
    );
    const dir = dirWith({});
    const env = await errorOf(() => resolveApps(request(dir, { app: 'a.js', env: { ROCKET_WORKERS: '2', ROCKET_MIN_WORKERS: '1' } })));
    expect(env.message).toBe('ROCKET_WORKERS="2" fixes the pool size: give either ROCKET_WORKERS, or ROCKET_MIN_WORKERS and ROCKET_MAX_WORKERS');
    const { file, error } = await fileError('rocket.config.mjs', 'export default { app: "./api.mjs", workers: 2, minWorkers: 1 };');
    expect(error.message).toBe(`workers 2 (in ${file}) fixes the pool size: give either workers, or minWorkers and maxWorkers`);
  });

  it('min above max names both values and their sources', async () => {
    const { file, error } = await fileError('rocket.config.mjs', 'export default { app: "./api.mjs", minWorkers: 4 };', { flags: { maxWorkers: 2 } });
    expect(error.message).toBe(`minWorkers 4 (in ${file}) is above --max-workers 2, for example --min-workers 1 --max-workers 4`);
  });

  it('park-after at or above keep-alive-timeout', async () => {
    const e = await errorOf(() => resolveApps(request(dirWith({}), { app: 'a.js', env: { ROCKET_PARK_AFTER: '6000' } })));
    expect(e.message).toBe(
      'ROCKET_PARK_AFTER="6000" must be below the default --keep-alive-timeout 5000 (or 0 to never park), for example --park-after 1000 --keep-alive-timeout 5000',
    );
  });

  it('headers-timeout above request-timeout', async () => {
    const { file, error } = await fileError('rocket.config.mjs', 'export default { app: "./api.mjs", requestTimeout: 5000 };', { flags: { headersTimeout: 9000 } });
    expect(error.message).toBe(`--headers-timeout 9000 must not exceed requestTimeout 5000 (in ${file}) (or set --request-timeout 0)`);
  });

  it('duplicate app names, given or from the module file name', async () => {
    const { file, error } = await fileError('rocket.config.mjs', 'export default { apps: [{ app: "./api.mjs" }, { name: "web", app: "./api.mjs" }, { app: "./x/api.mjs" }] };');
    expect(error.message).toBe(`${file}: apps[0] and apps[2] are both named "api": give each app a distinct name`);
    const flag = await fileError('rocket.config.mjs', 'export default { apps: [{ name: "a", app: "./api.mjs" }, { name: "b", app: "./api.mjs" }] };', { flags: { name: 'same' } });
    expect(flag.error.message).toContain('--name "same" would give several apps the same name');
  });
});

describe('config errors: files', () => {
  it('two config files in one directory', async () => {
    const dir = dirWith({ 'rocket.config.mjs': 'export default {}', 'rocket.config.json': '{}' });
    const e = await errorOf(() => resolveApps(request(dir)));
    expect(e.code).toBe('RC_ERR_CONFIG_FILE');
    expect(e.message).toBe(`two config files in ${dir}: rocket.config.mjs and rocket.config.json; keep one, or choose one with --config`);
  });

  it('a --config file that does not exist', async () => {
    const dir = dirWith({});
    const e = await errorOf(() => resolveApps(request(dir, { configPath: 'conf/rocket.json' })));
    expect(e.code).toBe('RC_ERR_CONFIG_FILE');
    expect(e.message).toBe(`--config "conf/rocket.json": no such file (${path.join(dir, 'conf/rocket.json')})`);
  });

  it('a JSON syntax error names the file, line and column', async () => {
    const { file, error } = await fileError('rocket.config.json', '{\n  "app": "./api.mjs",\n  "workers": }\n');
    expect(error.code).toBe('RC_ERR_CONFIG_FILE');
    expect(error.message).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}:3:14: invalid JSON: `));
    const comma = await fileError('rocket.config.json', '{ "app": "./api.mjs", }');
    expect(comma.error.message).toMatch(/rocket\.config\.json:1:23: invalid JSON: /);
  });

  it('a config module that throws, at import or in its exported function', async () => {
    const { file, error } = await fileError('rocket.config.mjs', 'throw new Error("no DATABASE_URL");');
    expect(error.code).toBe('RC_ERR_CONFIG_FILE');
    expect(error.message).toBe(`cannot load ${file}: no DATABASE_URL`);
    const fn = await fileError('rocket.config.mjs', 'export default async () => { throw new Error("later"); };');
    expect(fn.error.message).toBe(`cannot load ${fn.file}: later`);
  });

  it('a config module without a default export, and files of the wrong shape', async () => {
    expect((await fileError('rocket.config.mjs', 'export const app = "./api.mjs";')).error.message).toContain('has no default export');
    const list = await fileError('rocket.config.json', '[{ "app": "./api.mjs" }]');
    expect(list.error.message).toBe(
      `${list.file}: expected one app object { app: './server.js', workers: 4, … } or { apps: [{ name: 'api', app: './api.js', … }, …] }, got an array`,
    );
    const beside = await fileError('rocket.config.json', '{ "workers": 2, "apps": [{ "app": "./api.mjs" }] }');
    expect(beside.error.message).toBe(`${beside.file}: "workers" beside "apps": put it in each app of "apps"`);
    const noApp = await fileError('rocket.config.json', '{ "apps": [{ "name": "api" }] }');
    expect(noApp.error.message).toBe(`${noApp.file}: apps[0] has no "app": add app: './server.js' (or static: './public' for a static file server)`);
  });
});

describe('config errors: which app', () => {
  it('`start` with several apps exits 2 naming them', async () => {
    const dir = dirWith({ 'api.mjs': APP, 'c.mjs': 'export default { apps: [{ name: "api", app: "./api.mjs" }, { name: "web", app: "./api.mjs" }] };' });
    const r = await cli(['start', '--config', path.join(dir, 'c.mjs')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`rocket-cluster: several apps in ${path.join(dir, 'c.mjs')} (api, web): name one, for example rocket-cluster start api, or use --daemon to start them all\n`);
  });

  it('an [app] that is neither a name in the file nor a file', async () => {
    const { file, dir, error } = await fileError('rocket.config.mjs', 'export default { apps: [{ name: "api", app: "./api.mjs" }] };', { app: 'apx' });
    expect(error.code).toBe('RC_ERR_CONFIG_APP');
    expect(error.message).toBe(`no app named "apx" in ${file} (its apps: api) and no file ${path.join(dir, 'apx')}; did you mean "api"?`);
  });

  it('no [app] and no config file', async () => {
    const dir = dirWith({});
    const e = await errorOf(() => resolveApps(request(dir)));
    expect(e.code).toBe('RC_ERR_CONFIG_APP');
    expect(e.message).toContain(`no app to run and no config file in ${dir}`);
  });
});
