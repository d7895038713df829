import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/shared/config.js';
import { reconfigure } from '../../src/master/reconfigure.js';

const base = resolveConfig({ app: '/srv/app.js', listen: ['127.0.0.1:8080'], workers: 2, env: { A: '1' } });

describe('reconfigure (what a reload takes from the config read again)', () => {
  it('gives the workers the reloaded settings and reports the others as waiting for an upgrade', () => {
    const fresh = resolveConfig({ app: '/srv/app2.js', name: 'app', listen: ['127.0.0.1:9090'], workers: 3, env: { A: '2' }, nodeArgs: ['--import', 'tsx'] });
    const next = reconfigure(base, fresh);
    expect([...next.applied].sort()).toEqual(['app', 'env', 'nodeArgs']);
    expect([...next.needsUpgrade].sort()).toEqual(['listen', 'maxWorkers', 'minWorkers']);
    expect(next.workers).toMatchObject({ app: '/srv/app2.js', env: { A: '2' }, nodeArgs: ['--import', 'tsx'], minWorkers: 2, maxWorkers: 2 });
    // The listeners stay the master's.
    expect(next.workers.listen).toEqual(base.listen);
  });

  it('how static files are served is the workers\' (reloaded); which directories, the master\'s (checked at start)', () => {
    const before = resolveConfig({ app: '/srv/app.js', static: ['/srv/www'] });
    const after = resolveConfig({ app: '/srv/app.js', static: ['/srv/www2'], staticReadSize: 64, staticCacheControl: 'no-cache', staticDotfiles: 'deny' });
    const next = reconfigure(before, after);
    expect([...next.applied].sort()).toEqual(['staticCacheControl', 'staticDotfiles', 'staticReadSize']);
    expect(next.needsUpgrade).toEqual(['static']);
    expect(next.workers).toMatchObject({ staticReadSize: 64, staticCacheControl: 'no-cache', staticDotfiles: 'deny', static: before.static });
  });

  it('nothing changed: nothing applied, nothing waiting', () => {
    expect(reconfigure(base, base)).toMatchObject({ applied: [], needsUpgrade: [] });
  });

  it("a new certificate path for the same https address is the workers' (listen counts as applied, not waiting)", () => {
    const tls = (cert: string) => resolveConfig({ app: '/srv/app.js', listen: ['https://127.0.0.1:8443'], tlsCert: cert, tlsKey: '/k.pem' });
    const next = reconfigure(tls('/old.pem'), tls('/new.pem'));
    expect(next.needsUpgrade).toEqual([]);
    expect([...next.applied].sort()).toEqual(['listen', 'tlsCert']);
    const [address] = next.workers.listen;
    expect(address?.kind === 'tcp' && address.tls?.cert).toBe('/new.pem');
  });
});
