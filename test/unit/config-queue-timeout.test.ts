import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { optionFlags } from '../../src/config/cli.js';
import type { ConfigReport } from '../../src/config/report.js';
import { resolveApps } from '../../src/config/resolve-apps.js';
import { DEFAULTS } from '../../src/shared/defaults.js';
import { cli, dirWith, errorOf, removeDirs } from './config-helpers.js';

// --queue-timeout goes the whole way an option goes: file key, ROCKET_* variable, flag, default, checks, `config`, `--help`.

afterAll(removeDirs);

const APP = 'export default (req, res) => res.end("ok");\n';

describe('queueTimeout', () => {
  it('defaults to DEFAULTS.queueTimeout; the file, ROCKET_QUEUE_TIMEOUT and --queue-timeout set it, in that order of precedence', async () => {
    const dir = dirWith({ 'a.mjs': APP, 'rocket.config.mjs': 'export default { app: "./a.mjs", queueTimeout: 1500 };' });
    const file = path.join(dir, 'rocket.config.mjs');
    const none = await resolveApps({ flags: {}, env: {}, cwd: dirWith({}), app: path.join(dir, 'a.mjs') });
    expect(none.apps[0]?.config.queueTimeout).toBe(DEFAULTS.queueTimeout);
    expect(none.apps[0]?.sources.queueTimeout).toEqual({ kind: 'default' });

    const fromFile = await resolveApps({ flags: {}, env: {}, cwd: dir });
    expect(fromFile.apps[0]?.config.queueTimeout).toBe(1500);
    expect(fromFile.apps[0]?.sources.queueTimeout).toEqual({ kind: 'file', file, key: 'queueTimeout' });

    const fromEnv = await resolveApps({ flags: {}, env: { ROCKET_QUEUE_TIMEOUT: '0' }, cwd: dir });
    expect(fromEnv.apps[0]?.config.queueTimeout).toBe(0);
    expect(fromEnv.apps[0]?.sources.queueTimeout).toEqual({ kind: 'env', variable: 'ROCKET_QUEUE_TIMEOUT', raw: '0' });

    const r = await cli(['config', '--config', file, '--json', '--queue-timeout', '250']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as ConfigReport;
    expect(report.apps[0]?.options.queueTimeout).toEqual({ value: 250, source: { kind: 'flag', flag: '--queue-timeout' } });
    expect((await cli(['config', '--config', file])).stdout).toMatch(/^ {2}queueTimeout +1500 +file /m);
  });

  it('is a whole number of milliseconds from 0; a bad value names its source', async () => {
    const flag = await cli(['config', 'a.mjs', '--queue-timeout', '-1']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe('rocket-cluster: --queue-timeout -1: expected a whole number of milliseconds from 0 to 86400000 (24 h)\n');
    const env = await errorOf(() => resolveApps({ flags: {}, env: { ROCKET_QUEUE_TIMEOUT: '1s' }, cwd: dirWith({}), app: 'a.mjs' }));
    expect(env.message).toBe('ROCKET_QUEUE_TIMEOUT="1s": expected a whole number of milliseconds from 0 to 86400000 (24 h)');
  });

  it('its flag, as --help shows it, says what it does and its default', () => {
    expect(optionFlags()['queue-timeout']).toMatchObject({
      requiresArg: true,
      describe: `ms a connection may wait in the queue for a worker before it gets 503 (Retry-After); 0 for no bound [default: ${DEFAULTS.queueTimeout}]`,
    });
  });
});
