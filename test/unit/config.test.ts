import { describe, expect, it } from 'vitest';
import { formatListenAddress, parseListenAddress, resolveConfig } from '../../src/shared/config.js';
import { DEFAULTS } from '../../src/shared/defaults.js';
import { RocketError } from '../../src/shared/errors.js';

function errorOf(fn: () => unknown): RocketError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RocketError) return e;
    throw e;
  }
  throw new Error('expected a RocketError');
}

describe('parseListenAddress', () => {
  it('reads host:port, [v6]:port and unix:/path', () => {
    expect(parseListenAddress('127.0.0.1:8080')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 8080 });
    expect(parseListenAddress('localhost:0')).toEqual({ kind: 'tcp', host: 'localhost', port: 0 });
    expect(parseListenAddress('[::1]:9000')).toEqual({ kind: 'tcp', host: '::1', port: 9000 });
    expect(parseListenAddress('unix:/tmp/x.sock')).toEqual({ kind: 'unix', path: '/tmp/x.sock' });
  });

  it('round-trips through formatListenAddress', () => {
    for (const text of ['127.0.0.1:80', '[::1]:443', 'unix:/run/app.sock']) expect(formatListenAddress(parseListenAddress(text))).toBe(text);
  });

  it.each(['8080', '::1:80', 'host:', 'host:99999', 'unix:', '[::1]80'])('rejects %j with a message naming the value', (text) => {
    const e = errorOf(() => parseListenAddress(text));
    expect(e.code).toBe('RC_ERR_CONFIG_INVALID');
    expect(e.message).toContain(JSON.stringify(text));
    expect(e.message).toContain('--listen');
  });
});

describe('resolveConfig', () => {
  it('fills every default and resolves the app path', () => {
    const c = resolveConfig({ app: 'examples/hello.mjs' });
    expect(c.app).toMatch(/^\/.*examples\/hello\.mjs$/);
    expect(c.name).toBe('hello');
    expect(c.minWorkers).toBe(DEFAULTS.minWorkers);
    expect(c.maxWorkers).toBeGreaterThanOrEqual(1);
    expect(c.parkAfter).toBe(DEFAULTS.parkAfter);
    expect(c.listen).toEqual([{ kind: 'tcp', host: '127.0.0.1', port: 8080 }]);
    expect(c.admin).toBeUndefined();
  });

  it('names the option, the bad value and what it expects', () => {
    const e = errorOf(() => resolveConfig({ app: 'a.js', workers: 0 }));
    expect(e.code).toBe('RC_ERR_CONFIG_INVALID');
    expect(e.message).toMatch(/^--workers 0: /);
    expect(errorOf(() => resolveConfig({ app: 'a.js', queueSize: 1.5 })).message).toMatch(/^--queue-size 1.5: /);
    expect(errorOf(() => resolveConfig({ app: 'a.js', logLevel: 'loud' as never })).message).toMatch(/^--log-level "loud": /);
  });

  it('--workers fixes the pool; --min-workers/--max-workers bound it; mixing them is an error', () => {
    expect(resolveConfig({ app: 'a.js', workers: 3 })).toMatchObject({ minWorkers: 3, maxWorkers: 3 });
    expect(resolveConfig({ app: 'a.js', minWorkers: 2, maxWorkers: 5 })).toMatchObject({ minWorkers: 2, maxWorkers: 5 });
    expect(errorOf(() => resolveConfig({ app: 'a.js', workers: 2, maxWorkers: 4 })).message).toContain('--workers 2');
    expect(errorOf(() => resolveConfig({ app: 'a.js', minWorkers: 4, maxWorkers: 2 })).message).toContain('--min-workers 4 is above --max-workers 2');
  });

  it('--pool-memory-soft must not be above --pool-memory-hard; either alone, or neither, is fine', () => {
    const e = errorOf(() => resolveConfig({ app: 'a.js', poolMemorySoft: 2000, poolMemoryHard: 1500 }));
    expect(e.code).toBe('RC_ERR_CONFIG_INVALID');
    expect(e.message).toContain('--pool-memory-soft 2000 is above --pool-memory-hard 1500');
    expect(resolveConfig({ app: 'a.js', poolMemorySoft: 1500, poolMemoryHard: 1500 })).toMatchObject({ poolMemorySoft: 1500, poolMemoryHard: 1500 });
    expect(resolveConfig({ app: 'a.js', poolMemorySoft: 2000 }).poolMemoryHard).toBeUndefined();
    expect(resolveConfig({ app: 'a.js' })).not.toHaveProperty('poolMemorySoft');
    expect(errorOf(() => resolveConfig({ app: 'a.js', poolMemoryHard: 0 })).message).toMatch(/^--pool-memory-hard 0: /);
  });

  it('rejects unknown options by name', () => {
    const e = errorOf(() => resolveConfig({ app: 'a.js', wrokers: 3 } as never));
    expect(e.message).toContain('"wrokers"');
  });

  it('requires park-after below keep-alive-timeout unless parking is off', () => {
    expect(errorOf(() => resolveConfig({ app: 'a.js', parkAfter: 5000, keepAliveTimeout: 5000 })).message).toContain('--park-after');
    expect(resolveConfig({ app: 'a.js', parkAfter: 0, keepAliveTimeout: 100 }).parkAfter).toBe(0);
  });

  it('requires headers-timeout within request-timeout, as Node does', () => {
    expect(errorOf(() => resolveConfig({ app: 'a.js', headersTimeout: 9000, requestTimeout: 5000 })).message).toContain('--headers-timeout');
    expect(resolveConfig({ app: 'a.js', headersTimeout: 9000, requestTimeout: 0 }).requestTimeout).toBe(0);
  });
});
