import { createHash } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { alive, fixture, launch, startCluster, type Cluster, type Exit, type LogLine } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';
import { head } from '../helpers/requests.js';

/** What every fixture app puts in its JSON answers: the pid of the process that ran the handler. */
interface FromPid {
  pid: number;
  [key: string]: unknown;
}

/** The answer came from one of the cluster's workers: not the master, and a pid /status lists as a worker. */
async function expectFromWorker(cluster: Cluster, pid: number): Promise<void> {
  const status = await cluster.status();
  expect(status.pid).toBe(cluster.pid);
  expect(pid).not.toBe(cluster.pid);
  expect(status.workers.map((w) => w.pid)).toContain(pid);
}

async function getJson(cluster: Cluster, urlPath: string, init?: RequestInit): Promise<{ res: Response; body: FromPid }> {
  const res = await fetch(`http://127.0.0.1:${cluster.port}${urlPath}`, init);
  return { res, body: (await res.json()) as FromPid };
}

describe('each app shape is served by the workers', () => {
  it('Express (default export app): route params, query, and a JSON POST body through express.json()', async () => {
    const cluster = await startCluster(fixture('shape-express.mjs'), ['--workers', '1']);
    const get = await getJson(cluster, '/users/42/books/7?sort=asc');
    expect(get.res.status).toBe(200);
    expect(get.body).toMatchObject({ shape: 'express', params: { id: '42', book: '7' }, query: { sort: 'asc' } });
    await expectFromWorker(cluster, get.body.pid);

    const sent = { name: 'rocket', list: [1, 2, 3], nested: { ok: true }, text: 'h\u00e9llo \u{1f680}' };
    const post = await getJson(cluster, '/echo-json', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sent) });
    expect(post.res.status).toBe(201);
    expect(post.body).toMatchObject({ shape: 'express', body: sent, type: 'application/json' });
    await expectFromWorker(cluster, post.body.pid);
  });

  it('Koa (export default app.callback()): body, headers and a non-200 status', async () => {
    const cluster = await startCluster(fixture('shape-koa.mjs'), ['--workers', '1']);
    const ok = await getJson(cluster, '/things?limit=3');
    expect(ok.res.status).toBe(200);
    expect(ok.res.headers.get('x-shape')).toBe('koa');
    expect(ok.body).toMatchObject({ shape: 'koa', method: 'GET', path: '/things', query: { limit: '3' } });
    await expectFromWorker(cluster, ok.body.pid);

    const teapot = await getJson(cluster, '/teapot');
    expect(teapot.res.status).toBe(418);
    expect(teapot.body).toMatchObject({ shape: 'koa', teapot: true });
    await expectFromWorker(cluster, teapot.body.pid);
  });

  describe('Hono (export default app, the fetch shape)', () => {
    it('routes, sets response headers and several Set-Cookie headers, answers non-200 statuses', async () => {
      const cluster = await startCluster(fixture('shape-hono.mjs'), ['--workers', '1']);
      const hello = await getJson(cluster, '/hello/world');
      expect(hello.res.status).toBe(200);
      expect(hello.res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(hello.body).toMatchObject({ shape: 'hono', name: 'world' });
      await expectFromWorker(cluster, hello.body.pid);

      const cookies = await getJson(cluster, '/cookies');
      expect(cookies.res.status).toBe(200);
      expect(cookies.res.headers.get('x-custom')).toBe('one');
      expect(cookies.res.headers.get('cache-control')).toBe('no-store');
      // Two separate header lines, not one joined with a comma (which browsers would misread).
      expect(cookies.res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/; HttpOnly']);
      await expectFromWorker(cluster, cookies.body.pid);

      const created = await getJson(cluster, '/created');
      expect(created.res.status).toBe(201);
      expect(created.body).toMatchObject({ created: true });
      const missing = await getJson(cluster, '/no/such/route');
      expect(missing.res.status).toBe(404);
      expect(missing.body).toMatchObject({ error: 'not here' });
      await expectFromWorker(cluster, missing.body.pid);
    });

    it('streams a POST body to the app: a large body arrives whole, and the app can answer before the body ends', async () => {
      const cluster = await startCluster(fixture('shape-hono.mjs'), ['--workers', '1']);
      const body = Buffer.alloc(2 * 1024 * 1024 + 3);
      for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >> 11)) & 0xff;
      const upload = await getJson(cluster, '/stream', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body });
      expect(upload.res.status).toBe(200);
      expect(upload.body).toMatchObject({ length: body.length, sha256: createHash('sha256').update(body).digest('hex') });
      // More than one chunk reached the app: the body was not handed over as one buffer.
      expect(upload.body.chunks).toBeGreaterThan(1);
      await expectFromWorker(cluster, upload.body.pid);

      // Only the first chunk of a chunked body is sent; the answer must come while the rest is still missing.
      const client = await RawClient.connect(cluster.port);
      onTestFinished(() => client.close());
      await client.write(`${head('POST', '/first-chunk', ['Transfer-Encoding: chunked'])}5\r\nhello\r\n`);
      const [early] = await client.responses(1);
      expect(early?.status).toBe(202);
      const answer = JSON.parse(early?.body ?? '{}') as FromPid;
      expect(answer.first).toBe('hello');
      await expectFromWorker(cluster, answer.pid);
    });
  });

  it('a plain request listener module (no framework)', async () => {
    const cluster = await startCluster(fixture('shape-listener.mjs'), ['--workers', '1']);
    const { res, body } = await getJson(cluster, '/plain?x=1', { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ shape: 'listener', method: 'DELETE', url: '/plain?x=1' });
    await expectFromWorker(cluster, body.pid);
  });

  it('an unmodified CommonJS script calling http.createServer().listen(3000, cb): port ignored, callback run, address() works', async () => {
    // Two workers both "listen on 3000": only possible if neither really binds it.
    const cluster = await startCluster(fixture('shape-script.cjs'), ['--workers', '2']);
    const { res, body } = await getJson(cluster, '/from-script');
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ shape: 'script', url: '/from-script', listenCallbackRan: true, addressError: null });
    expect(body.address).toMatchObject({ port: expect.any(Number) as unknown, address: expect.any(String) as unknown });
    await expectFromWorker(cluster, body.pid);
    const status = await cluster.status();
    expect(status.workers.filter((w) => w.state === 'ready')).toHaveLength(2);
  });

  it('an Express script that calls app.listen(port) itself and exports nothing', async () => {
    const cluster = await startCluster(fixture('shape-express-listen.mjs'), ['--workers', '2']);
    const { res, body } = await getJson(cluster, '/items/abc');
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ shape: 'express-listen', id: 'abc', listening: true });
    await expectFromWorker(cluster, body.pid);
  });
});

interface Outcome {
  exit: Exit;
  logs: LogLine[];
  stderr: string;
}

/**
 * Runs `rocket-cluster start <app>` for starts that must fail: resolves with
 * the exit and every line written once the master has exited. A master still
 * running after `deadlineMs` fails the test (and is killed when it ends).
 */
async function runFailingStart(app: string, args: readonly string[], deadlineMs = 10_000): Promise<Outcome> {
  const master = launch(['start', app, '--listen', '127.0.0.1:0', ...args]);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), deadlineMs)));
  const exit = await Promise.race([master.exited, deadline]);
  clearTimeout(timer);
  if (exit === 'deadline') throw new Error(`master (pid ${master.pid}) still running ${deadlineMs} ms after a failed start; its output:\n${master.stdout()}${master.stderr()}`);
  await master.finished; // every line written before the exit
  return { exit, logs: master.logs, stderr: master.stderr() };
}

describe('an app that cannot be served is a clear error, and the master exits non-zero', () => {
  it.each([
    { file: 'shape-syntax-error.mjs', cause: /missing \) after argument list/ },
    { file: 'shape-throws.mjs', cause: /database unreachable at db\.invalid:5432/ },
    { file: 'shape-missing-import.mjs', cause: /rocket-cluster-no-such-package/ },
  ])('$file: RC_ERR_APP_LOAD naming the file and the cause, exit code 1', async ({ file, cause }) => {
    const app = fixture(file);
    const { exit, logs, stderr } = await runFailingStart(app, ['--workers', '1']);
    expect(exit).toEqual({ code: 1, signal: null });
    const load = logs.find((l) => l.code === 'RC_ERR_APP_LOAD');
    expect(load, `no RC_ERR_APP_LOAD line in ${JSON.stringify(logs)} ${stderr}`).toBeDefined();
    expect(load?.msg).toContain(app);
    expect(load?.msg).toMatch(cause);
    // The master's own last word names them too, so an operator reading only that line knows what to fix.
    const last = logs.filter((l) => l.role === 'master' && l.level >= 50).at(-1);
    expect(last?.msg).toContain(app);
    expect(last?.msg).toMatch(cause);
    // Nothing it started outlives it.
    const children = logs.flatMap((l) => [l.workerPid, l.monitorPid]).filter((pid): pid is number => typeof pid === 'number');
    expect(children.length).toBeGreaterThan(0);
    await expect.poll(() => children.filter(alive), { timeout: 5000 }).toEqual([]);
  });

  it('startCluster rejects with the cause when the app fails to load', async () => {
    await expect(startCluster(fixture('shape-throws.mjs'), ['--workers', '1'])).rejects.toThrow(/database unreachable at db\.invalid:5432/);
  });

  it('a module that exports nothing servable and never listens: RC_ERR_APP_SHAPE naming the file, exit code 1', async () => {
    const app = fixture('shape-nothing.mjs');
    const { exit, logs, stderr } = await runFailingStart(app, ['--workers', '1', '--start-timeout', '1000']);
    expect(exit).toEqual({ code: 1, signal: null });
    const shape = logs.find((l) => l.code === 'RC_ERR_APP_SHAPE');
    expect(shape, `no RC_ERR_APP_SHAPE line in ${JSON.stringify(logs)} ${stderr}`).toBeDefined();
    expect(shape?.msg).toContain(app);
    expect(shape?.msg).toMatch(/nothing to serve/);
  });
});
