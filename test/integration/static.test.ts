import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { onCleanup } from '../helpers/cleanup.js';
import { fixture, launch, newHome, parkedAndHeld, startCluster, whenListening, type Cluster } from '../helpers/cluster.js';
import { runCli } from '../helpers/cli.js';
import { RawClient, type ParsedResponse } from '../helpers/raw-client.js';
import { get } from '../helpers/requests.js';

// docs/STATIC.md. Every request here goes over a real socket to a real worker; hostile paths go through
// RawClient so that they reach the server exactly as written (fetch and curl normalise "..").

const SECRET = 'the-secret-outside-the-directory';
const BIG = 256 * 1024 * 1024;

/** A served directory `pub` and, beside it, `outside` with a secret nothing may serve. */
function makeTree(): { base: string; pub: string } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-static-'));
  onCleanup(() => fs.rmSync(base, { recursive: true, force: true }));
  const pub = path.join(base, 'pub');
  const write = (rel: string, data: string | Buffer) => {
    fs.mkdirSync(path.dirname(path.join(base, rel)), { recursive: true });
    fs.writeFileSync(path.join(base, rel), data);
  };
  write('outside/secret.txt', SECRET);
  write('pub/index.html', '<h1>home</h1>');
  write('pub/app.js', 'console.log("identity");');
  // The same size and time as app.js: an ETag of size and time alone would be the same for all three.
  write('pub/app.js.br', 'BROTLI-BYTES'.padEnd(24, '.'));
  write('pub/app.js.gz', 'GZIP-BYTES'.padEnd(24, '.'));
  for (const f of ['app.js', 'app.js.br', 'app.js.gz']) fs.utimesSync(path.join(pub, f), 1_700_000_000, 1_700_000_000);
  write('pub/style.css', 'body{}');
  write('pub/digits.txt', '0123456789');
  write('pub/sub/index.html', '<h1>sub</h1>');
  write('pub/empty/.keep', '');
  write('pub/.env', 'DOTFILE');
  write('pub/.git/config', 'DOTDIR');
  fs.symlinkSync(path.join(base, 'outside/secret.txt'), path.join(pub, 'escape.txt'));
  fs.symlinkSync(path.join(base, 'outside'), path.join(pub, 'escape-dir'));
  fs.symlinkSync('app.js', path.join(pub, 'alias.js'));
  // Sparse: a quarter of a gigabyte of zeros without writing it.
  fs.closeSync(fs.openSync(path.join(pub, 'big.bin'), 'w'));
  fs.truncateSync(path.join(pub, 'big.bin'), BIG);
  return { base, pub };
}

async function raw(cluster: Cluster, request: string): Promise<ParsedResponse> {
  const client = await RawClient.connect(cluster.port);
  try {
    await client.write(request);
    const [res] = await client.responses(1);
    return res as ParsedResponse;
  } finally {
    client.close();
  }
}

/** The status and headers of a request made with node:http, which knows that a HEAD response has no body. */
function request(cluster: Cluster, method: string, urlPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: cluster.port, method, path: urlPath, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('a static file server (--static and no app)', () => {
  let cluster: Cluster;
  let pub: string;
  beforeAll(async () => {
    ({ pub } = makeTree());
    cluster = await whenListening(
      launch(['start', '--static', pub, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', '1', '--static-cache-control', 'public, max-age=3600', '--park-after', '300', '--park-when', 'idle']),
    );
  });

  it('GET: the file, its type by extension, ETag, Last-Modified and the Cache-Control option', async () => {
    const js = await request(cluster, 'GET', '/app.js');
    expect(js.status).toBe(200);
    expect(js.body.toString()).toBe('console.log("identity");');
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['content-length']).toBe(String('console.log("identity");'.length));
    expect(js.headers.etag).toMatch(/^W\/".+"$/);
    expect(new Date(js.headers['last-modified'] as string).getTime()).toBe(Math.floor(fs.statSync(path.join(pub, 'app.js')).mtimeMs / 1000) * 1000);
    expect(js.headers['cache-control']).toBe('public, max-age=3600');
    expect(js.headers.vary).toBe('Accept-Encoding');
    expect((await request(cluster, 'GET', '/style.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await request(cluster, 'GET', '/app.js?v=3')).body.toString()).toBe('console.log("identity");');
  });

  it('HEAD: the same headers as GET and no body; other methods get 405 with Allow', async () => {
    const got = await request(cluster, 'GET', '/app.js');
    const head = await request(cluster, 'HEAD', '/app.js');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    for (const h of ['content-type', 'content-length', 'etag', 'last-modified', 'cache-control']) expect(head.headers[h]).toBe(got.headers[h]);
    const post = await request(cluster, 'POST', '/app.js');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('If-None-Match and If-Modified-Since answer 304', async () => {
    const { headers } = await request(cluster, 'GET', '/app.js');
    const byTag = await request(cluster, 'GET', '/app.js', { 'if-none-match': headers.etag as string });
    expect(byTag.status).toBe(304);
    expect(byTag.body.length).toBe(0);
    expect(byTag.headers.etag).toBe(headers.etag);
    expect((await request(cluster, 'GET', '/app.js', { 'if-modified-since': headers['last-modified'] as string })).status).toBe(304);
    expect((await request(cluster, 'GET', '/app.js', { 'if-none-match': 'W/"other"' })).status).toBe(200);
    expect((await request(cluster, 'GET', '/app.js', { 'if-modified-since': new Date(0).toUTCString() })).status).toBe(200);
    expect((await request(cluster, 'GET', '/app.js', { 'if-match': '"not-the-etag"' })).status).toBe(412);
  });

  it('Range answers 206, If-Range with a stale validator the whole file, a bad range 416', async () => {
    const part = await request(cluster, 'GET', '/digits.txt', { range: 'bytes=2-5' });
    expect(part.status).toBe(206);
    expect(part.body.toString()).toBe('2345');
    expect(part.headers['content-range']).toBe('bytes 2-5/10');
    const { headers } = await request(cluster, 'GET', '/digits.txt');
    const fresh = await request(cluster, 'GET', '/digits.txt', { range: 'bytes=-3', 'if-range': headers.etag as string });
    expect(fresh.status).toBe(206);
    expect(fresh.body.toString()).toBe('789');
    const stale = await request(cluster, 'GET', '/digits.txt', { range: 'bytes=0-1', 'if-range': '"not-the-etag"' });
    expect(stale.status).toBe(200);
    expect(stale.body.toString()).toBe('0123456789');
    const several = await request(cluster, 'GET', '/digits.txt', { range: 'bytes=0-1,5-6' });
    expect(several.status).toBe(200);
    expect(several.body.toString()).toBe('0123456789');
    const bad = await request(cluster, 'GET', '/digits.txt', { range: 'bytes=50-60' });
    expect(bad.status).toBe(416);
    expect(bad.headers['content-range']).toBe('bytes */10');
  });

  it('a .br or .gz sibling by Accept-Encoding, with the original type, Vary, and an ETag of its own; Range gets the identity file', async () => {
    const identity = await request(cluster, 'GET', '/app.js');
    const br = await request(cluster, 'GET', '/app.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.body.toString()).toBe('BROTLI-BYTES'.padEnd(24, '.'));
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(br.headers.vary).toBe('Accept-Encoding');
    expect(br.headers['accept-ranges']).toBeUndefined();
    expect(br.headers.etag).not.toBe(identity.headers.etag);
    const gz = await request(cluster, 'GET', '/app.js', { 'accept-encoding': 'br;q=0, gzip' });
    expect(gz.body.toString()).toBe('GZIP-BYTES'.padEnd(24, '.'));
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.etag).not.toBe(br.headers.etag);
    expect(gz.headers.etag).not.toBe(identity.headers.etag);
    // Each representation revalidates against its own ETag only.
    expect((await request(cluster, 'GET', '/app.js', { 'accept-encoding': 'br', 'if-none-match': br.headers.etag as string })).status).toBe(304);
    expect((await request(cluster, 'GET', '/app.js', { 'accept-encoding': 'br', 'if-none-match': identity.headers.etag as string })).status).toBe(200);
    const ranged = await request(cluster, 'GET', '/app.js', { 'accept-encoding': 'br', range: 'bytes=0-6' });
    expect(ranged.status).toBe(206);
    expect(ranged.body.toString()).toBe('console');
    expect(ranged.headers['content-encoding']).toBeUndefined();
    expect((await request(cluster, 'GET', '/style.css', { 'accept-encoding': 'br' })).headers['content-encoding']).toBeUndefined();
  });

  it('a directory: /sub redirects to /sub/, which serves its index.html; no index is 404', async () => {
    const redirect = await request(cluster, 'GET', '/sub?x=1');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('/sub/?x=1');
    const index = await request(cluster, 'GET', '/sub/');
    expect(index.status).toBe(200);
    expect(index.body.toString()).toBe('<h1>sub</h1>');
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect((await request(cluster, 'GET', '/')).body.toString()).toBe('<h1>home</h1>');
    expect((await request(cluster, 'GET', '/empty/')).status).toBe(404);
    expect((await request(cluster, 'GET', '/missing.txt')).status).toBe(404);
    expect((await request(cluster, 'GET', '/app.js/')).status).toBe(404);
  });

  const hostile = [
    '/../outside/secret.txt',
    '/sub/../../outside/secret.txt',
    '/%2e%2e/outside/secret.txt',
    '/%2E%2E/outside/secret.txt',
    '/sub/%2e%2e/%2e%2e/outside/secret.txt',
    '/..%2foutside%2fsecret.txt',
    '/sub%2f..%2f..%2foutside%2fsecret.txt',
    '/%2e%2e%5coutside%5csecret.txt',
    '/..\\outside\\secret.txt',
    '/app.js%00.html',
    '/escape.txt',
    '/escape-dir/secret.txt',
    '/.env',
    '/.git/config',
    '/sub/%2e%65nv',
    '/%2e%2e',
  ];
  it.each(hostile)('refuses %s with 403 or 404 and never reads outside the directory', async (urlPath) => {
    const res = await raw(cluster, get(urlPath));
    expect([403, 404]).toContain(res.status);
    expect(res.body).not.toContain(SECRET);
    expect(res.body).not.toContain('DOT');
  });

  it('a symlink that stays inside the directory is served', async () => {
    expect((await raw(cluster, get('/alias.js'))).body).toBe('console.log("identity");');
  });

  it('streams a large file to a slow reader with backpressure, then the connection serves again and parks', async () => {
    const worker = (await cluster.status()).workers[0]?.pid as number;
    const readBytes = () => Number(/^rchar: (\d+)$/m.exec(fs.readFileSync(`/proc/${worker}/io`, 'utf8'))?.[1]);
    const before = readBytes();
    const socket = net.connect(cluster.port, '127.0.0.1');
    onCleanup(() => socket.destroy());
    let received = 0;
    let headEnd = -1;
    let head = '';
    const firstData = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        if (headEnd < 0) {
          head += chunk.toString('latin1');
          headEnd = head.indexOf('\r\n\r\n');
          if (headEnd >= 0) received = Buffer.byteLength(head, 'latin1') - headEnd - 4;
        } else received += chunk.length;
        socket.pause(); // read nothing more until the test says so
        resolve();
      });
    });
    socket.write(get('/big.bin'));
    await firstData;
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head).toContain(`Content-Length: ${BIG}`);
    // The worker reads the file only as fast as the socket drains: with the client paused it stops, far short
    // of the whole file (kernel buffers and a stream's high-water mark, a few MB). Wait until it stops.
    let last = -1;
    await expect
      .poll(() => {
        const now = readBytes();
        const stable = now === last;
        last = now;
        return stable;
      }, { timeout: 30_000, interval: 200 })
      .toBe(true);
    expect(last - before).toBeLessThan(BIG / 8);
    // Now read it all: the response completes through node:http, and the connection is still usable.
    const done = new Promise<void>((resolve) => {
      socket.removeAllListeners('data');
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= BIG) resolve();
      });
    });
    socket.resume();
    await done;
    expect(received).toBe(BIG);
    await parkedAndHeld(cluster, 1);
    const again = new Promise<string>((resolve) => {
      let text = '';
      socket.removeAllListeners('data');
      socket.on('data', (c: Buffer) => {
        text += c.toString('latin1');
        if (text.endsWith('<h1>sub</h1>')) resolve(text);
      });
    });
    socket.write(get('/sub/'));
    expect(await again).toMatch(/^HTTP\/1\.1 200/);
  });
});

describe('how files are read (--static-read-size)', () => {
  /** Random bytes, so that a chunk dropped, repeated or out of order changes the body. */
  function servedDir(files: Record<string, number>): { pub: string; data: Record<string, Buffer> } {
    const pub = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-static-read-'));
    onCleanup(() => fs.rmSync(pub, { recursive: true, force: true }));
    const data: Record<string, Buffer> = {};
    for (const [name, bytes] of Object.entries(files)) {
      data[name] = crypto.randomBytes(bytes);
      fs.writeFileSync(path.join(pub, name), data[name] as Buffer);
    }
    return { pub, data };
  }

  it('16 KB reads: a file of many chunks, and ranges across their boundaries, arrive byte for byte', async () => {
    const { pub, data } = servedDir({ 'many.bin': 40 * 16 * 1024 + 123 });
    const cluster = await whenListening(launch(['start', '--static', pub, '--static-read-size', '16', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', '1']));
    const file = data['many.bin'] as Buffer;
    const reads = await readCalls(cluster);
    const whole = await request(cluster, 'GET', '/many.bin');
    expect(whole.status).toBe(200);
    expect(whole.body.equals(file)).toBe(true);
    expect(reads()).toBeGreaterThanOrEqual(41); // 41 reads of 16 KB, each with its event-loop wake-up (86 measured); 64 KB reads: 26
    for (const [first, last] of [[16_380, 32_800], [0, 16_383], [16_384, 16_384], [file.length - 200, file.length - 1]] as const) {
      const part = await request(cluster, 'GET', '/many.bin', { range: `bytes=${first}-${last}` });
      expect(part.status).toBe(206);
      expect(part.headers['content-range']).toBe(`bytes ${first}-${last}/${file.length}`);
      expect(part.body.equals(file.subarray(first, last + 1))).toBe(true);
    }
  });

  it('the default: a 1 MB file in one read and a 2.5 MB one in 256 KB chunks arrive byte for byte, on one connection', async () => {
    const { pub, data } = servedDir({ 'one.bin': 1024 * 1024, 'three.bin': 2.5 * 1024 * 1024 });
    const cluster = await whenListening(launch(['start', '--static', pub, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', '1']));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    onCleanup(() => agent.destroy());
    const ports = new Set<number>();
    for (const name of ['one.bin', 'three.bin', 'one.bin']) {
      const reads = await readCalls(cluster);
      const res = await fetchWith(agent, cluster, `/${name}`);
      // About two read calls per read of the file. 64 KB reads: 26 and more for either file.
      if (name === 'one.bin') expect(reads()).toBeLessThan(9); // one read (4 to 6 measured; four 256 KB chunks: 12)
      else expect(reads()).toSatisfy((n: number) => n >= 20 && n < 40); // ten reads of 256 KB (22 measured)
      expect(res.status).toBe(200);
      expect(res.body.equals(data[name] as Buffer)).toBe(true);
      ports.add(res.localPort);
    }
    expect(ports.size).toBe(1);
  });
});

/**
 * Counts the read system calls of the cluster's one worker from now on
 * (/proc/<pid>/io syscr: each read of the file, the read of the event loop's
 * wake-up when it completes, and the few socket and IPC reads around a
 * request), so that a test sees how many reads a file took.
 */
async function readCalls(cluster: Cluster): Promise<() => number> {
  const pid = (await cluster.status()).workers[0]?.pid as number;
  const syscr = () => Number(/^syscr: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1]);
  const before = syscr();
  return () => syscr() - before;
}

/** GET through `agent`, so that requests share a keep-alive connection. */
function fetchWith(agent: http.Agent, cluster: Cluster, urlPath: string): Promise<{ status: number; body: Buffer; localPort: number }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: cluster.port, path: urlPath, agent }, (res) => {
        const chunks: Buffer[] = [];
        const localPort = res.socket.localPort ?? 0; // the socket is the agent's again by 'end'
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), localPort }));
      })
      .on('error', reject);
  });
}

describe('--static in front of an app', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    const { pub } = makeTree();
    cluster = await startCluster(fixture('echo.mjs'), ['--static', `/assets=${pub}`, '--workers', '1']);
  });

  const fromApp = async (method: string, urlPath: string) => {
    const res = await raw(cluster, `${method} ${urlPath} HTTP/1.1\r\nHost: t\r\n${method === 'POST' ? 'Content-Length: 0\r\n' : ''}\r\n`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ method, url: urlPath });
  };

  it('serves a file under the prefix, and sends everything else to the app', async () => {
    const file = await request(cluster, 'GET', '/assets/app.js');
    expect(file.body.toString()).toBe('console.log("identity");');
    expect((await request(cluster, 'GET', '/assets')).headers.location).toBe('/assets/');
    expect((await request(cluster, 'GET', '/assets/')).body.toString()).toBe('<h1>home</h1>');
    await fromApp('GET', '/assets/missing.js'); // a miss falls through
    await fromApp('GET', '/app.js'); // outside the prefix
    await fromApp('GET', '/assetsx/app.js');
    await fromApp('POST', '/assets/app.js'); // not GET or HEAD
    await fromApp('GET', '/assets/.env');
  });

  it('hostile paths under the prefix go to the app, never to a file outside the directory', async () => {
    for (const urlPath of ['/assets/../outside/secret.txt', '/assets/%2e%2e/outside/secret.txt', '/assets/escape.txt', '/assets/..%2foutside%2fsecret.txt']) {
      const res = await raw(cluster, get(urlPath));
      expect(res.body).not.toContain(SECRET);
      expect(JSON.parse(res.body)).toMatchObject({ url: urlPath });
    }
  });
});

describe('--static in front of an app that calls listen() itself', () => {
  it('files first, then the app\'s own server (Express app.listen)', async () => {
    const { pub } = makeTree();
    const cluster = await startCluster(fixture('shape-express-listen.mjs'), ['--static', pub, '--workers', '1']);
    expect((await request(cluster, 'GET', '/digits.txt')).body.toString()).toBe('0123456789');
    const item = await request(cluster, 'GET', '/items/7');
    expect(JSON.parse(item.body.toString())).toMatchObject({ shape: 'express-listen', id: '7' });
    const head = await request(cluster, 'HEAD', '/digits.txt');
    expect(head.headers['content-length']).toBe('10');
  });
});

describe('starting without an app', () => {
  it('neither an app nor --static: exit 2 naming both', async () => {
    const home = newHome();
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-static-cwd-'));
    onCleanup(() => fs.rmSync(cwd, { recursive: true, force: true }));
    const result = await runCli(home, ['start', '--listen', '127.0.0.1:0'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--static ./public');
  });

  it('a --static directory that does not exist: exit 2 naming it', async () => {
    const missing = path.join(os.tmpdir(), 'rc-static-no-such-dir');
    const result = await runCli(newHome(), ['start', '--static', missing, '--listen', '127.0.0.1:0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--static ${missing}: no such directory`);
  });

  it('static in the config file, relative to the file', async () => {
    const { base } = makeTree();
    fs.writeFileSync(path.join(base, 'rocket.config.mjs'), "export default { static: ['/files=./pub'], workers: 1 };\n");
    const cluster = await whenListening(launch(['start', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'], { cwd: base }));
    expect((await request(cluster, 'GET', '/files/digits.txt')).body.toString()).toBe('0123456789');
    expect((await request(cluster, 'GET', '/digits.txt')).status).toBe(404);
  });
});
