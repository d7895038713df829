import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { optionFlags } from '../../src/config/cli.js';
import { OPTIONS, OPTION_KEYS, envName, kebabCase } from '../../src/shared/options.js';
import { closest } from '../../src/shared/suggest.js';
import { jsonErrorOffset } from '../../src/config/json-position.js';

describe('the option table', () => {
  it('derives a flag for every option but app and env, and an environment name for every option but those of one app alone', () => {
    const flags = optionFlags();
    expect(Object.keys(flags)).toEqual(OPTION_KEYS.filter((k) => k !== 'app' && k !== 'env').map(kebabCase));
    expect(flags['listen']).toMatchObject({ type: 'string', array: true, alias: 'l' });
    expect(flags['access-log']).toMatchObject({ type: 'boolean' });
    expect(flags['min-workers']?.describe).toBe('fewest worker processes [default: 1]');
    expect(OPTION_KEYS.filter((k) => !OPTIONS[k].env)).toEqual(['app', 'name', 'cwd', 'env', 'args']);
    expect(envName('minWorkers')).toBe('ROCKET_MIN_WORKERS');
    expect(envName('logMaxSize')).toBe('ROCKET_LOG_MAX_SIZE');
  });

  it('every default passes its own schema', () => {
    for (const key of OPTION_KEYS) {
      const d = (OPTIONS[key] as { default?: unknown }).default;
      if (d !== undefined) expect(OPTIONS[key].schema.safeParse(d).success, key).toBe(true);
    }
  });

  it('docs/CONFIG.md lists every option with its file key, flag and variable', () => {
    const doc = fs.readFileSync(new URL('../../docs/CONFIG.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `(\w+)` \| (.*)$/gm)].map((m) => ({ key: m[1]!, rest: m[2]! }));
    expect(rows.map((r) => r.key)).toEqual(OPTION_KEYS);
    for (const { key, rest } of rows) {
      if (OPTIONS[key as keyof typeof OPTIONS].flag) expect(rest, key).toContain(`\`--${kebabCase(key)}\``);
      if (OPTIONS[key as keyof typeof OPTIONS].env) expect(rest, key).toContain(`\`${envName(key as keyof typeof OPTIONS)}\``);
    }
  });
});

describe('closest', () => {
  it('finds another spelling of the same words, or a near typo, and nothing far', () => {
    expect(closest('min_workers', OPTION_KEYS)).toBe('minWorkers');
    expect(closest('wrokers', OPTION_KEYS)).toBe('workers');
    expect(closest('keepAliveTimout', OPTION_KEYS)).toBe('keepAliveTimeout');
    expect(closest('port', OPTION_KEYS)).toBeUndefined();
  });
});

describe('jsonErrorOffset', () => {
  it('finds where JSON.parse fails (where V8 gives a position, the same one), including the errors V8 gives none for', () => {
    for (const [text, offset] of [
      ['{"a": }', 6],
      ['{"a": 1,}', 8],
      ['[1 2]', 3],
      ['{"a": tru}', 9],
      ['{"a": 1} x', 9],
      ['{"a": "x', 8],
      ['', 0],
    ] as const) {
      expect(() => JSON.parse(text)).toThrow();
      expect(jsonErrorOffset(text), text).toBe(offset);
    }
    expect(jsonErrorOffset('{ "a": [1, -2.5e3, true, null, "x\\"y"] }')).toBeUndefined();
  });
});
