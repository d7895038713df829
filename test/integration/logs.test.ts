import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/shared/status-report.js';
import { onCleanup } from '../helpers/cleanup.js';
import { alive, fixture, launch, newHome, startCluster, type Exit, type LogLine } from '../helpers/cluster.js';

const NAME = 'logs-test';
const APP = fixture('console-app.mjs');

describe('output of the app and of every process, on stdout', () => {
  it("tags an app's console.log and console.error lines with the worker, its pid and the stream; our own lines pass as JSON", async () => {
    const cluster = await startCluster(APP, ['--workers', '1']);
    const worker = (await cluster.status()).workers[0]!;
    const get = (p: string) => fetch(`http://127.0.0.1:${cluster.port}${p}`).then((r) => r.text());
    expect(await get(`/log?text=${encodeURIComponent('hello "app"')}`)).toBe('ok\n');
    expect(await get('/error?text=oops%20on%20stderr')).toBe('ok\n');

    const out = await cluster.waitForLog((l) => l.msg === 'hello "app"');
    expect(out).toMatchObject({ level: 30, role: 'worker', worker: 1, pid: worker.pid, stream: 'stdout' });
    const err = await cluster.waitForLog((l) => l.msg === 'oops on stderr');
    expect(err).toMatchObject({ level: 50, role: 'worker', worker: 1, pid: worker.pid, stream: 'stderr' });
    // The worker's access line arrives as the worker wrote it, not wrapped in a msg.
    const access = await cluster.waitForLog((l) => l.msg === 'request' && String(l.path).startsWith('/error'));
    expect(access).toMatchObject({ role: 'worker', worker: 1, pid: worker.pid, status: 200 });
    expect(access.stream).toBeUndefined();
    const { logs } = await cluster.status();
    expect(logs.file).toBeNull();
    expect(logs.written).toBeGreaterThan(0);
    expect(logs.dropped).toBe(0);
  });

  it('splits output written in pieces and cut mid-line; a last line without newline arrives when the worker exits', async () => {
    const cluster = await startCluster(APP, ['--workers', '1']);
    const get = (p: string) => fetch(`http://127.0.0.1:${cluster.port}${p}`).then((r) => r.text());
    await get('/pieces?piece=ab&piece=c%0Ade&piece=f%0Ag&piece=%0A');
    await get(`/log?text=${encodeURIComponent('first\nsecond')}`);
    const stdoutLines = async (texts: string[]) => {
      await cluster.waitForLog((l) => l.msg === texts.at(-1));
      return cluster.logs.filter((l) => l.stream === 'stdout' && texts.includes(l.msg)).map((l) => l.msg);
    };
    expect(await stdoutLines(['abc', 'def', 'g'])).toEqual(['abc', 'def', 'g']);
    expect(await stdoutLines(['first', 'second'])).toEqual(['first', 'second']);

    const pid = (await cluster.status()).workers[0]!.pid;
    await get('/unterminated?text=last%20words');
    await get('/exit');
    const last = await cluster.waitForLog((l) => l.msg === 'last words');
    expect(last).toMatchObject({ level: 50, role: 'worker', worker: 1, pid, stream: 'stderr' });
  });
});

describe('log files (--log-dir)', () => {
  it('rotate at --log-max-size, keep --log-retain rotated files, and lose or repeat no line', async () => {
    const cluster = await startFileCluster(['--log-max-size', '20k', '--log-retain', '2']);
    let sent = 0;
    // Numbered requests, one after another: the worker logs them in order.
    while (highestFileNumber(cluster.dir) < 6) {
      for (let i = 0; i < 100; i++, sent++) expect(await cluster.get(`/n/${sent}`)).toBe('ok\n');
    }
    expect(await cluster.stop()).toMatchObject({ code: 0 });

    const files = numberedFiles(cluster.dir);
    expect(files.length).toBe(3);
    expect(fs.readlinkSync(path.join(cluster.dir, 'current.log'))).toBe(path.basename(files.at(-1)!));
    for (const file of files.slice(0, -1)) expect(fs.statSync(file).size).toBeGreaterThanOrEqual(20 * 1024);
    const lines = files.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').slice(0, -1)).map((l) => JSON.parse(l) as LogLine);
    const numbers = lines.filter((l) => l.msg === 'request' && String(l.path).startsWith('/n/')).map((l) => Number(String(l.path).slice(3)));
    expect(numbers[0]).toBeGreaterThan(0); // the oldest files were deleted
    expect(numbers).toEqual(Array.from({ length: sent - numbers[0]! }, (_, i) => numbers[0]! + i));
  });

  it('SIGUSR1 reopens the file: after logrotate moves it away, new lines go to a new file of the same name', async () => {
    const cluster = await startFileCluster([]);
    const current = path.join(cluster.dir, fs.readlinkSync(path.join(cluster.dir, 'current.log')));
    await cluster.get('/log?text=before%20rotation');
    await expect.poll(() => readIfExists(current), { timeout: 10_000 }).toContain('before rotation');
    fs.renameSync(current, `${current}.rotated`);
    process.kill(cluster.pid, 'SIGUSR1');
    await expect.poll(() => readIfExists(current), { timeout: 10_000 }).toContain('SIGUSR1: log file reopened');
    await cluster.get('/log?text=after%20rotation');
    await expect.poll(() => readIfExists(current), { timeout: 10_000 }).toContain('after rotation');
    const rotated = fs.readFileSync(`${current}.rotated`, 'utf8');
    expect(rotated).toContain('before rotation');
    expect(rotated).not.toContain('after rotation');
    // The worker appends its own access lines to the file itself: the master told it to reopen too.
    await expect.poll(() => readIfExists(current), { timeout: 10_000 }).toContain('"path":"/log?text=after%20rotation"');
    expect(fs.readFileSync(`${current}.rotated`, 'utf8')).not.toContain('"path":"/log?text=after%20rotation"');
  });

  it('with --log-dir the worker appends its own lines to the file itself: none passes through the master', async () => {
    const cluster = await startFileCluster([]);
    const before = (await cluster.status()).logs.written;
    for (let i = 0; i < 300; i++) expect(await cluster.get(`/direct/${i}`)).toBe('ok\n');
    const current = path.join(cluster.dir, fs.readlinkSync(path.join(cluster.dir, 'current.log')));
    const accessLines = () => (readIfExists(current).match(/"path":"\/direct\/\d+"/g) ?? []).length;
    // A worker flushes its lines at least once a second.
    await expect.poll(accessLines, { timeout: 10_000 }).toBe(300);
    // `written` counts the lines the master wrote: its own and the app's console output, not the 300 access lines.
    expect((await cluster.status()).logs.written - before).toBeLessThan(300);
    const lines = readIfExists(current).trim().split('\n').map((l) => JSON.parse(l) as LogLine);
    const access = lines.filter((l) => l.msg === 'request' && String(l.path).startsWith('/direct/'));
    expect(access.map((l) => Number(String(l.path).slice(8)))).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(access[0]).toMatchObject({ level: 30, role: 'worker', worker: 1, method: 'GET', status: 200 });
  });

  it('a SIGUSR1 sent to the whole process group kills no process and opens no inspector', async () => {
    const inspectorWasOpen = await portOpen(9229);
    const cluster = await startFileCluster([]);
    const before = await cluster.status();
    const current = path.join(cluster.dir, fs.readlinkSync(path.join(cluster.dir, 'current.log')));
    process.kill(-cluster.pid, 'SIGUSR1');
    await expect.poll(() => readIfExists(current), { timeout: 10_000 }).toContain('SIGUSR1: log file reopened');
    // Node announces an inspector on stderr: a line the worker writes on stderr afterwards comes after it.
    await cluster.get('/error?text=after%20the%20group%20signal');
    await expect.poll(() => readIfExists(current), { timeout: 10_000 }).toContain('after the group signal');
    expect(readIfExists(current)).not.toContain('Debugger listening');
    if (!inspectorWasOpen) expect(await portOpen(9229)).toBe(false);
    const after = await cluster.status();
    for (const pid of [cluster.pid, before.monitor.pid!, before.workers[0]!.pid!]) expect(alive(pid)).toBe(true);
    expect(after.workers.map((w) => w.pid)).toEqual(before.workers.map((w) => w.pid));
    expect(after.monitor.pid).toBe(before.monitor.pid);
  });

  it('on a full disk (the file is /dev/full) lines are dropped and counted, one warning goes to stderr, and serving goes on', async () => {
    const file = path.join(NAME, `${NAME}.1.log`);
    const cluster = await startFileCluster([], (logDir) => {
      fs.mkdirSync(path.join(logDir, NAME), { recursive: true });
      fs.symlinkSync('/dev/full', path.join(logDir, file));
    });
    let status = await cluster.status();
    expect(status.logs.file).toBe(path.join(cluster.dir, `${NAME}.1.log`));
    // Long paths make long access lines: the 4 MB the master holds for a failing output fill sooner.
    const pad = 'p'.repeat(2000);
    const deadline = Date.now() + 20_000;
    while (status.logs.dropped === 0) {
      expect(Date.now()).toBeLessThan(deadline);
      const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => cluster.get(`/full/${i}?${pad}`)));
      expect(answers.every((a) => a === 'ok\n')).toBe(true);
      status = await cluster.status();
    }
    expect(status.logs.written).toBe(0);
    expect(await cluster.get('/still-serving')).toBe('ok\n');
    const warnings = cluster.stderr().split('\n').filter((l) => l.includes('log writes are failing'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, role: 'master', reason: 'ENOSPC', target: status.logs.file });
  });
});

interface FileCluster {
  readonly pid: number;
  /** `<logDir>/<name>`, where the files are. */
  readonly dir: string;
  stderr(): string;
  get(p: string): Promise<string>;
  status(): Promise<StatusReport>;
  stop(): Promise<Exit>;
}

/**
 * A cluster writing to files, so nothing on its stdout: it listens and serves
 * /status on Unix sockets in its own HOME, known before it starts. Its own
 * process group, so a test can signal the group. `prepare` gets the log
 * directory before the start.
 */
async function startFileCluster(args: readonly string[], prepare?: (logDir: string) => void): Promise<FileCluster> {
  const home = newHome();
  const logDir = path.join(home, 'logs');
  const [appSocket, adminSocket] = [path.join(home, 'app.sock'), path.join(home, 'admin.sock')];
  prepare?.(logDir);
  const master = launch(
    ['start', APP, '--name', NAME, '--workers', '1', '--listen', `unix:${appSocket}`, '--admin', `unix:${adminSocket}`, '--log-dir', logDir, ...args],
    { home, detached: true },
  );
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  onCleanup(() => agent.destroy()); // before the master is killed: idle keep-alive sockets first
  const request = (socketPath: string, p: string) =>
    new Promise<string>((resolve, reject) => {
      http
        .get({ socketPath, path: p, agent }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
  const cluster: FileCluster = {
    pid: master.pid,
    dir: path.join(logDir, NAME),
    stderr: master.stderr,
    get: (p) => request(appSocket, p),
    status: async () => JSON.parse(await request(adminSocket, '/status')) as StatusReport,
    async stop() {
      agent.destroy();
      return master.stop('SIGTERM');
    },
  };
  await expect
    .poll(() => (master.child.exitCode === null ? cluster.status().then((s) => s.state, () => null) : `exited: ${master.stderr()}`), { timeout: 15_000 })
    .toBe('running');
  return cluster;
}

function numberedFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .flatMap((name) => {
      const m = new RegExp(`^${NAME}\\.(\\d+)\\.log$`).exec(name);
      return m ? [{ name, n: Number(m[1]) }] : [];
    })
    .sort((a, b) => a.n - b.n)
    .map((f) => path.join(dir, f.name));
}

function highestFileNumber(dir: string): number {
  const last = numberedFiles(dir).at(-1);
  return last === undefined ? 0 : Number(/\.(\d+)\.log$/.exec(last)![1]);
}

function readIfExists(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}
