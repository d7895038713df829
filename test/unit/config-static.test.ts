import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/shared/config.js';
import { RocketError } from '../../src/shared/errors.js';

describe('static and app', () => {
  it('no app needs static: the error names both', () => {
    const error = (() => {
      try {
        resolveConfig({});
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(RocketError);
    expect((error as RocketError).code).toBe('RC_ERR_CONFIG_APP');
    expect((error as RocketError).message).toContain('--static ./public');
  });

  it('a static file server: no app, named static, mounts resolved', () => {
    const config = resolveConfig({ static: ['/=/srv/www', '/assets=/srv/build'] });
    expect(config.app).toBeUndefined();
    expect(config.name).toBe('static');
    expect(config.static).toEqual([
      { prefix: '/', dir: '/srv/www' },
      { prefix: '/assets', dir: '/srv/build' },
    ]);
    expect(config.staticCacheControl).toBe('public, max-age=0');
    expect(config.staticDotfiles).toBe('ignore');
    expect(config.staticReadSize).toBe(1024);
  });

  it('with an app, static is optional and empty by default', () => {
    const config = resolveConfig({ app: '/srv/app.js' });
    expect(config.static).toEqual([]);
    expect(config.name).toBe('app');
  });

  it('a bad mount or Cache-Control value is refused', () => {
    expect(() => resolveConfig({ static: ['/a b=./x'] })).toThrow(/may hold only/);
    expect(() => resolveConfig({ app: '/a.js', staticCacheControl: 'x\ny' })).toThrow(/Cache-Control/);
    expect(() => resolveConfig({ app: '/a.js', staticDotfiles: 'maybe' as 'allow' })).toThrow(/ignore, deny or allow/);
    expect(() => resolveConfig({ app: '/a.js', staticReadSize: 8 })).toThrow(/static-read-size 8: expected an integer from 16 to 16384/);
  });
});
