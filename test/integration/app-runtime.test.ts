import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { fixture, launch, whenListening, type Cluster } from '../helpers/cluster.js';
import { FIXTURES } from '../helpers/paths.js';
/** What the fixture answers: how its worker process was started. */
import type { Seen } from '../fixtures/runtime-app.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocket-runtime-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function seen(cluster: Cluster): Promise<Seen> {
  const res = await fetch(`http://127.0.0.1:${cluster.port}/`, { headers: { connection: 'close' } });
  expect(res.status).toBe(200);
  return (await res.json()) as Seen;
}

/** A config file for the TypeScript fixture, in its own directory; `over` replaces or adds keys. */
function writeConfig(name: string, over: Record<string, unknown> = {}): string {
  const home = path.join(dir, name);
  fs.mkdirSync(home, { recursive: true });
  const config = {
    app: fixture('runtime-app.ts'),
    name,
    workers: 1,
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    // tsx is found from here (the repository's node_modules), as an app finds its own loaders from its directory.
    cwd: FIXTURES,
    nodeArgs: ['--import', 'tsx'],
    args: ['one', 'two words'],
    env: { GREETING: 'hello', STAGE: 'dev' },
    env_production: { STAGE: 'prod' },
    ...over,
  };
  fs.writeFileSync(path.join(home, 'rocket.config.json'), JSON.stringify(config, null, 2));
  return home;
}

describe('per-app runtime settings (env, env_<name>, cwd, nodeArgs, args)', () => {
  it('a TypeScript app runs with --import tsx, in its cwd, with its args and the env set chosen by --env', async () => {
    const cwd = writeConfig('rt1');
    const cluster = await whenListening(launch(['start', '--env', 'production'], { cwd }));
    const got = await seen(cluster);
    expect(got.greeting).toBe('hello');
    expect(got.stage).toBe('prod');
    expect(got.cwd).toBe(FIXTURES);
    expect(got.argv).toEqual([fixture('runtime-app.ts'), 'one', 'two words']);
    expect(got.execArgv.join(' ')).toContain('--import tsx');
    // The master needs none of it: no user env, no tsx.
    const master = fs.readFileSync(`/proc/${cluster.pid}/environ`, 'latin1').split('\0');
    expect(master).not.toContain('GREETING=hello');
    expect((await cluster.stop()).code).toBe(0);
  });

  it('reload reads the config file again: the new workers get the new env, args and node args; a setting only a new master applies is reported', async () => {
    const cwd = writeConfig('rt2');
    const cluster = await whenListening(launch(['start'], { cwd }));
    expect((await seen(cluster)).stage).toBe('dev');
    writeConfig('rt2', { env: { GREETING: 'hi', STAGE: 'dev2' }, args: ['three'], nodeArgs: ['--import', 'tsx', '--max-old-space-size=200'], queueSize: 50 });
    const reload = await runCli(cluster.home, ['reload', 'rt2'], { cwd });
    expect(reload.code, reload.stderr).toBe(0);
    expect(reload.stdout).toMatch(/from the config: .*env/);
    expect(reload.stdout).toMatch(/from the config: .*nodeArgs/);
    expect(reload.stdout).toMatch(/only a new master applies it: queueSize: run rocket-cluster upgrade rt2/);
    const got = await seen(cluster);
    expect(got).toMatchObject({ greeting: 'hi', stage: 'dev2', argv: [fixture('runtime-app.ts'), 'three'] });
    expect(got.execArgv).toContain('--max-old-space-size=200');
    expect((await cluster.stop()).code).toBe(0);
  });

  it('a config that fails validation, or a cwd that is not there, refuses the reload: exit 1 naming it, the old workers keep serving', async () => {
    const cwd = writeConfig('rt3');
    const cluster = await whenListening(launch(['start'], { cwd }));
    const before = await seen(cluster);
    writeConfig('rt3', { env: { GREETING: ['not', 'a', 'string'] } });
    const invalid = await runCli(cluster.home, ['reload', 'rt3'], { cwd });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/reload not done: .*env/);
    writeConfig('rt3', { cwd: path.join(dir, 'no-such-dir') });
    const missing = await runCli(cluster.home, ['reload', 'rt3'], { cwd });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`cwd ${JSON.stringify(path.join(dir, 'no-such-dir'))}: no such directory`);
    expect(await seen(cluster)).toEqual(before);
    expect((await cluster.status()).generation).toBe(1);
    expect((await cluster.stop()).code).toBe(0);
  });

  it('--env naming a set no app has, and a cwd that is not a directory, exit 2 before anything starts', async () => {
    const cwd = writeConfig('rt4');
    const typo = await runCli(cwd, ['start', '--env', 'prod'], { cwd });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('--env "prod": no app in');
    expect(typo.stderr).toContain('(sets there: env_production)');
    const noDir = await runCli(cwd, ['start', '--cwd', path.join(dir, 'nothing-here')], { cwd });
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toContain('no such directory');
  });
});
