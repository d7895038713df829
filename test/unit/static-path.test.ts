import { describe, expect, it } from 'vitest';
import { anchorStaticMount, splitStaticMount, staticMountProblem } from '../../src/shared/static-mount.js';
import { acceptedEncodings, directoryLocation, namedPath } from '../../src/worker/static-path.js';

describe('--static [PREFIX=]DIR', () => {
  it('splits at the first "=" when the text starts with a URL path', () => {
    expect(splitStaticMount('./public')).toEqual({ prefix: '/', dir: './public' });
    expect(splitStaticMount('/srv/www')).toEqual({ prefix: '/', dir: '/srv/www' });
    expect(splitStaticMount('/assets=./build')).toEqual({ prefix: '/assets', dir: './build' });
    expect(splitStaticMount('/assets/=./build')).toEqual({ prefix: '/assets', dir: './build' });
    expect(splitStaticMount('/=/srv/a=b')).toEqual({ prefix: '/', dir: '/srv/a=b' });
    expect(splitStaticMount('./a=b')).toEqual({ prefix: '/', dir: './a=b' });
  });

  it('names what is wrong', () => {
    expect(staticMountProblem('./public')).toBeUndefined();
    expect(staticMountProblem('/assets=./b')).toBeUndefined();
    expect(staticMountProblem('/assets=')).toContain('no directory');
    expect(staticMountProblem('/a b=./x')).toContain('may hold only');
    expect(staticMountProblem('/a%2f=./x')).toContain('may hold only');
    expect(staticMountProblem('/a/../b=./x')).toContain('".."');
    expect(staticMountProblem('/a//b=./x')).toContain('empty segment');
  });

  it('anchors DIR and always keeps the prefix, so an absolute DIR with "=" stays one', () => {
    expect(anchorStaticMount('./public', '/srv')).toBe('/=/srv/public');
    expect(anchorStaticMount('/assets=build', '/srv')).toBe('/assets=/srv/build');
    expect(splitStaticMount(anchorStaticMount('/=x=y', '/srv'))).toEqual({ prefix: '/', dir: '/srv/x=y' });
    expect(anchorStaticMount('/assets=', '/srv')).toBe('/assets=');
  });
});

describe('the file a URL names', () => {
  it('decodes the path under the prefix and keeps the query apart', () => {
    expect(namedPath('/a/b%20c.txt?x=1', '/', 'ignore')).toEqual({ ok: true, rel: '/a/b c.txt', pathname: '/a/b%20c.txt', search: '?x=1' });
    expect(namedPath('/assets/app.js', '/assets', 'ignore')).toMatchObject({ ok: true, rel: '/app.js' });
    expect(namedPath('/assets', '/assets', 'ignore')).toMatchObject({ ok: true, rel: '' });
    expect(namedPath('/assets?v=2', '/assets', 'ignore')).toMatchObject({ ok: true, rel: '', search: '?v=2' });
  });

  it.each([
    ['/../etc/passwd'],
    ['/a/../../etc/passwd'],
    ['/%2e%2e/etc/passwd'],
    ['/%2E%2e/etc/passwd'],
    ['/a/./b'],
    ['/..%2fetc'],
    ['/a%2F..%2F..%2Fetc'],
    ['/a%5c..%5cetc'],
    ['/a\\..\\etc'],
    ['/a.txt%00.html'],
    ['/a%E0%A4%A'],
  ])('refuses %s with 403', (url) => {
    expect(namedPath(url, '/', 'allow')).toMatchObject({ ok: false, status: 403 });
  });

  it('dotfiles: 404 when ignored, 403 when denied, served when allowed', () => {
    for (const url of ['/.env', '/.git/config', '/a/%2eenv']) {
      expect(namedPath(url, '/', 'ignore')).toMatchObject({ ok: false, status: 404 });
      expect(namedPath(url, '/', 'deny')).toMatchObject({ ok: false, status: 403 });
      expect(namedPath(url, '/', 'allow')).toMatchObject({ ok: true });
    }
    expect(namedPath('/a.b/c.d', '/', 'ignore')).toMatchObject({ ok: true });
  });
});

describe('Accept-Encoding', () => {
  it('takes br and gzip unless refused with q=0; * covers what is not named', () => {
    expect(acceptedEncodings(undefined)).toEqual({ br: false, gzip: false });
    expect(acceptedEncodings('gzip, deflate, br')).toEqual({ br: true, gzip: true });
    expect(acceptedEncodings('br;q=0, gzip;q=0.5')).toEqual({ br: false, gzip: true });
    expect(acceptedEncodings('BR; Q=0.1')).toEqual({ br: true, gzip: false });
    expect(acceptedEncodings('*')).toEqual({ br: true, gzip: true });
    expect(acceptedEncodings('*, gzip;q=0')).toEqual({ br: true, gzip: false });
    expect(acceptedEncodings('identity')).toEqual({ br: false, gzip: false });
    expect(acceptedEncodings('x-gzip')).toEqual({ br: false, gzip: true });
  });
});

describe('the redirect of a directory URL', () => {
  it('adds the slash before the query and never points at another host', () => {
    expect(directoryLocation('/docs', '?a=1')).toBe('/docs/?a=1');
    expect(directoryLocation('//evil.example/docs', '')).toBe('/evil.example/docs/');
  });
});
