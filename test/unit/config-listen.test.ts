import { describe, expect, it } from 'vitest';
import { formatListenAddress, parseListenAddress, resolveConfig } from '../../src/shared/config.js';
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

describe('listen addresses with a scheme, TLS and socket permissions', () => {
  it('reads http:// as plain and https:// as TLS, and prints https:// back', () => {
    expect(parseListenAddress('http://127.0.0.1:80')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 80 });
    expect(parseListenAddress('https://[::1]:443/')).toEqual({ kind: 'tcp', host: '::1', port: 443 });
    const c = resolveConfig({ app: 'a.js', listen: ['0.0.0.0:80', 'https://0.0.0.0:443'], tlsCert: 'c.pem', tlsKey: 'k.pem' });
    expect(c.listen[0]).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 80 });
    expect(c.listen[1]).toMatchObject({ kind: 'tcp', port: 443, tls: { cert: expect.stringMatching(/\/c\.pem$/), key: expect.stringMatching(/\/k\.pem$/), minVersion: 'TLSv1.2' } });
    expect(c.listen.map(formatListenAddress)).toEqual(['0.0.0.0:80', 'https://0.0.0.0:443']);
  });

  it('lets a listen entry object carry its own certificate, over the top-level one', () => {
    const c = resolveConfig({
      app: 'a.js',
      tlsCert: '/top/c.pem',
      tlsKey: '/top/k.pem',
      listen: ['https://127.0.0.1:443', { address: 'https://127.0.0.1:8443', tlsCert: '/own/c.pem', tlsKey: '/own/k.pem', tlsMinVersion: 'TLSv1.3' }],
    });
    expect(c.listen[0]).toMatchObject({ tls: { cert: '/top/c.pem', minVersion: 'TLSv1.2' } });
    expect(c.listen[1]).toMatchObject({ tls: { cert: '/own/c.pem', key: '/own/k.pem', minVersion: 'TLSv1.3' } });
  });

  it('an https:// address without a certificate, or a certificate with no https:// address, is an error naming both', () => {
    expect(errorOf(() => resolveConfig({ app: 'a.js', listen: ['https://127.0.0.1:443'] })).message).toMatch(/https:\/\/127\.0\.0\.1:443.*--tls-cert FILE --tls-key FILE/);
    expect(errorOf(() => resolveConfig({ app: 'a.js', tlsCert: '/c.pem' })).message).toMatch(/^--tls-cert "\/c\.pem" is set, but no listen address is https:\/\//);
    expect(errorOf(() => resolveConfig({ app: 'a.js', listen: ['https://unix:/run/a.sock'] })).message).toContain('TLS on a unix socket is not supported');
    expect(errorOf(() => resolveConfig({ app: 'a.js', admin: 'https://127.0.0.1:9090' })).message).toContain('plain HTTP only');
  });

  it('a passphrase never appears in an error', () => {
    expect(errorOf(() => resolveConfig({ app: 'a.js', tlsPassphrase: 'hunter2' })).message).not.toContain('hunter2');
  });

  it('unix sockets take --socket-mode (octal) and --socket-group, per entry too', () => {
    const c = resolveConfig({ app: 'a.js', socketMode: '0660', socketGroup: 'www-data', listen: ['unix:/run/a.sock', { address: 'unix:/run/b.sock', socketMode: '600' }] });
    expect(c.listen).toEqual([
      { kind: 'unix', path: '/run/a.sock', mode: 0o660, group: 'www-data' },
      { kind: 'unix', path: '/run/b.sock', mode: 0o600, group: 'www-data' },
    ]);
    expect(errorOf(() => resolveConfig({ app: 'a.js', socketMode: '0999' })).message).toMatch(/^--socket-mode "0999": expected octal/);
  });

  it('a listen entry object with an unknown key names it and the known ones', () => {
    const e = errorOf(() => resolveConfig({ app: 'a.js', listen: [{ address: 'https://127.0.0.1:1', tlsCrt: 'x' } as never] }));
    expect(e.message).toContain('unknown key "tlsCrt"');
    expect(e.message).toContain('tlsCert');
  });
});
