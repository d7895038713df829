import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startDaemon } from '../helpers/cli.js';
import type { StatusResult } from '../../src/shared/control-protocol.js';
import { alive, fixture, launch, newHome } from '../helpers/cluster.js';

const ECHO = fixture('echo.mjs');

async function get(port: number, urlPath = '/'): Promise<{ status: number; pid: number }> {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`);
  const body = (await res.json()) as { pid: number };
  return { status: res.status, pid: body.pid };
}

describe('start --daemon, list, status', () => {
  it('returns once the cluster listens, printing its name, pid and addresses; list shows every process', async () => {
    const d = await startDaemon(ECHO, ['--workers', '2', '--name', 'api']);
    expect(d.name).toBe('api');
    expect(d.start.stdout).toMatch(/listening\s+127\.0\.0\.1:\d+/);
    expect(alive(d.pid)).toBe(true);
    expect((await get(d.port)).status).toBe(200);

    const list = await runCli(d.home, ['list']);
    expect(list.code).toBe(0);
    for (const column of ['name', 'pid', 'role', 'gen', 'state', 'uptime', 'restarts', 'cpu', 'memory', 'conns', 'requests']) expect(list.stdout).toContain(column);
    const { status } = await d.status();
    expect(list.stdout).toContain(String(d.pid));
    for (const w of status.workers) expect(list.stdout).toContain(String(w.pid));
    expect(list.stdout).toContain(String(status.monitor.pid));
    expect(list.stdout.match(/worker \d+/g)).toHaveLength(2);

    const json = await runCli(d.home, ['list', '--json']);
    const all = JSON.parse(json.stdout) as { status: { name: string; pid: number }; usage: Record<string, { memory: number }> }[];
    expect(all.map((r) => r.status.name)).toEqual(['api']);
    expect(all[0]?.usage[String(d.pid)]?.memory).toBeGreaterThan(0);
  });

  it('a daemon whose app cannot load: start exits 1 with the reason, nothing keeps running', async () => {
    const home = newHome();
    const r = await runCli(home, ['start', fixture('shape-throws.mjs'), '--daemon', '--listen', '127.0.0.1:0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/RC_ERR|cannot load|failed/i);
    expect((await runCli(home, ['list'])).stdout).toContain('no cluster is running');
  });
});

describe('stop, reload, scale', () => {
  it('scale N, +N, -N changes the pool; bad counts are usage errors (exit 2); an unknown cluster is exit 1', async () => {
    const d = await startDaemon(ECHO, ['--min-workers', '1', '--max-workers', '2', '--name', 'pool']);
    const up = await runCli(d.home, ['scale', 'pool', '3']);
    expect(up).toMatchObject({ code: 0 });
    expect(up.stdout).toContain('scaled pool to 3 workers (min 3, max 3)');
    await expect.poll(async () => (await d.status()).status.workers.filter((w) => w.state === 'ready').length, { timeout: 15_000 }).toBe(3);
    expect((await runCli(d.home, ['scale', 'pool', '-2'])).stdout).toContain('to 1 worker');
    await expect.poll(async () => (await d.status()).status.workers.length, { timeout: 15_000 }).toBe(1);
    expect((await runCli(d.home, ['scale', 'pool', '+1'])).stdout).toContain('to 2 workers');
    const { status } = await d.status();
    expect(status.pool).toMatchObject({ min: 2, max: 3 });
    expect(status.pool.events.map((e) => e.reason)).toContain('scale command');
    expect(status.pool.scaled).toEqual({ grow: 2, shrink: 1 });

    for (const bad of ['x', '0', '1.5', '+', '300', '+999']) {
      const r = await runCli(d.home, ['scale', 'pool', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/^rocket-cluster: /);
    }
    const below = await runCli(d.home, ['scale', 'pool', '-5']);
    expect(below.code).toBe(1);
    expect(below.stderr).toContain('cannot scale to');
    const unknown = await runCli(d.home, ['scale', 'nope', '2']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no cluster named "nope" is running');
  });

  it('reload replaces every worker and returns when done; stop returns once everything has exited', async () => {
    const d = await startDaemon(ECHO, ['--workers', '2']);
    const before = (await d.status()).status.workers.map((w) => w.pid);
    const reload = await runCli(d.home, ['reload']); // the only cluster: no name needed
    expect(reload.code).toBe(0);
    expect(reload.stdout).toContain(`reloaded ${d.name}: generation 2, 2 workers`);
    const after = (await d.status()).status;
    expect(after.generation).toBe(2);
    expect(after.workers.map((w) => w.pid).filter((p) => before.includes(p))).toEqual([]);
    expect((await get(d.port)).status).toBe(200);

    const pids = [d.pid, after.monitor.pid, ...after.workers.map((w) => w.pid)] as number[];
    const stop = await runCli(d.home, ['stop', d.name]);
    expect(stop).toMatchObject({ code: 0 });
    expect(stop.stdout).toContain(`stopped ${d.name} (pid ${d.pid})`);
    await expect.poll(() => pids.filter(alive), { timeout: 5000 }).toEqual([]);
    expect(fs.existsSync(path.join(d.home, 'rocket-cluster', `${d.name}.sock`))).toBe(false);
    const again = await runCli(d.home, ['stop', d.name]);
    expect(again.code).toBe(1);
    // A stopped daemon's lines are read from its log files.
    const logs = await runCli(d.home, ['logs', d.name, '-n', '20']);
    expect(logs.code).toBe(0);
    expect(logs.stderr).toContain(`${d.name} is not running; the last lines of`);
    const lines = logs.stdout.trim().split('\n').map((l) => JSON.parse(l) as { pid: number; msg: string });
    expect(lines).toHaveLength(20);
    expect(lines.some((l) => l.pid === d.pid && l.msg === 'stopped')).toBe(true);
    expect((await runCli(d.home, ['logs', d.name, '--follow'])).code).toBe(1);
  });

  it('stop while the cluster is still starting ends it cleanly: exit 0, no process left', async () => {
    const home = newHome();
    const app = path.join(home, 'slow.mjs');
    fs.writeFileSync(app, "await new Promise((r) => setTimeout(r, 5000));\nexport default (req, res) => res.end('ok');\n");
    const start = runCli(home, ['start', app, '--listen', '127.0.0.1:0']);
    // The control socket exists from the start: the name is claimed before any worker runs.
    await expect.poll(async () => (await runCli(home, ['status', 'slow', '--json'])).code, { timeout: 10_000 }).toBe(0);
    const { status } = JSON.parse((await runCli(home, ['status', 'slow', '--json'])).stdout) as StatusResult;
    expect(status.state).toBe('starting');
    const pids = [status.pid, status.monitor.pid, ...status.workers.map((w) => w.pid)].filter((p): p is number => p !== null);
    expect((await runCli(home, ['stop', 'slow'])).code).toBe(0);
    const started = await start;
    expect(started.code, started.stdout + started.stderr).toBe(0);
    await expect.poll(() => pids.filter(alive), { timeout: 5000 }).toEqual([]);
  });

  it('stop all stops every cluster; with several running, a command without a name is a usage error', async () => {
    const a = await startDaemon(ECHO, ['--workers', '1', '--name', 'a']);
    const b = await startDaemon(ECHO, ['--workers', '1', '--name', 'b'], a.home);
    const ambiguous = await runCli(a.home, ['reload']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('several clusters are running (a, b)');
    const stop = await runCli(a.home, ['stop', 'all']);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain('stopped a');
    expect(stop.stdout).toContain('stopped b');
    await expect.poll(() => [a.pid, b.pid].filter(alive), { timeout: 5000 }).toEqual([]);
  });
});

describe('a config file with several apps', () => {
  it('start --daemon starts every app of rocket.config.mjs; list shows both; stop all stops both', async () => {
    const home = newHome();
    const dir = fs.mkdtempSync(path.join(home, 'project-'));
    fs.writeFileSync(
      path.join(dir, 'rocket.config.mjs'),
      `export default { apps: [
        { name: 'api', app: ${JSON.stringify(ECHO)}, listen: ['127.0.0.1:0'], workers: 1 },
        { name: 'web', app: ${JSON.stringify(ECHO)}, listen: ['127.0.0.1:0'], workers: 2 },
      ] };\n`,
    );
    const foreground = await runCli(home, ['start'], { cwd: dir });
    expect(foreground.code).toBe(2); // several apps: name one, or --daemon
    const start = await runCli(home, ['start', '--daemon'], { cwd: dir });
    expect(start.code, start.stderr).toBe(0);
    const pids = [...start.stdout.matchAll(/^started (\w+) \(pid (\d+)\)/gm)].map((m) => [m[1], Number(m[2])] as const);
    expect(pids.map(([name]) => name)).toEqual(['api', 'web']);
    try {
      const list = JSON.parse((await runCli(home, ['list', '--json'])).stdout) as { status: { name: string; workers: unknown[] } }[];
      expect(list.map((r) => [r.status.name, r.status.workers.length])).toEqual([
        ['api', 1],
        ['web', 2],
      ]);
      expect((await runCli(home, ['stop', 'all'])).code).toBe(0);
      await expect.poll(() => pids.filter(([, pid]) => alive(pid)), { timeout: 5000 }).toEqual([]);
    } finally {
      for (const [, pid] of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});

describe('logs and monit', () => {
  it('logs --lines merges master and worker lines; --follow streams new ones', async () => {
    const d = await startDaemon(ECHO, ['--workers', '2']);
    await get(d.port, '/first');
    await expect
      .poll(async () => {
        const r = await runCli(d.home, ['logs', '--lines', '200']);
        const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { role: string; msg: string; path?: string });
        return lines.some((l) => l.role === 'master' && l.msg === 'listening') && lines.some((l) => l.role === 'worker' && l.path === '/first');
      }, { timeout: 10_000 })
      .toBe(true);
    const three = await runCli(d.home, ['logs', '-n', '3']);
    expect(three.stdout.trim().split('\n')).toHaveLength(3);

    // --lines 1: the cluster subscribes the follower as it sends the tail, so its first line proves the subscription.
    const follower = launch(['logs', d.name, '--lines', '1', '--follow'], { home: d.home });
    await follower.waitForLog(() => true);
    await get(d.port, '/followed');
    await follower.waitForLog((l) => l.path === '/followed');
    // Stopping the cluster ends the follow (exit 0), and the master does not wait for the follower.
    expect((await runCli(d.home, ['stop', d.name])).code).toBe(0);
    expect((await follower.finished).code).toBe(0);
    expect(follower.logs.some((l) => l.msg === 'stopping')).toBe(true);
    await expect.poll(() => alive(d.pid), { timeout: 5000 }).toBe(false);
  });

  it('monit draws the pool, queue, parked sockets and req/s per worker', async () => {
    const d = await startDaemon(ECHO, ['--workers', '2']);
    const r = await runCli(d.home, ['monit', '--count', '2', '--interval', '200']);
    expect(r.code).toBe(0);
    const frames = r.stdout.trim().split('\n\n');
    expect(frames).toHaveLength(2);
    expect(frames[1]).toMatch(/pool\s+2 workers \(min 2, max 2\)/);
    expect(frames[1]).toMatch(/queue\s+0 waiting/);
    expect(frames[1]).toMatch(/parked\s+\d+ of 10000/);
    expect(frames[1]).toMatch(/requests \d+ req\/s/);
    expect(frames[1]).toContain('req/s');
    // Each worker's slot (ROCKET_WORKER_ID) after its id.
    expect(frames[1]).toMatch(/worker\W+slot\W+pid/);
    expect(frames[1]).toMatch(/│\s+\d+\s+│\s+0\s+│\s+\d+\s+│\s+1\s+│\s+ready/);
  });
});

describe('monit with a memory budget and --sticky ip', () => {
  it('draws the budget and the sticky addresses', async () => {
    const d = await startDaemon(ECHO, ['--workers', '1', '--pool-memory-soft', '4096', '--sticky', 'ip']);
    const served = await fetch(`http://127.0.0.1:${d.port}/`);
    expect(served.status).toBe(200);
    const r = await runCli(d.home, ['monit', '--count', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/memory\s+workers [\d.]+ (B|KB|MB) · soft 4096 MB · hard off · held 0 times/);
    expect(r.stdout).toMatch(/sticky\s+1 address · 0 moved/);
  });
});

describe('usage', () => {
  it('an unknown command or a missing argument is exit 2; --help on each command is exit 0', async () => {
    const home = newHome();
    expect((await runCli(home, ['frobnicate'])).code).toBe(2);
    expect((await runCli(home, ['scale', 'only-a-name'])).code).toBe(2);
    for (const cmd of ['start', 'stop', 'reload', 'scale', 'status', 'list', 'logs', 'monit']) {
      const r = await runCli(home, [cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout).toContain(`rocket-cluster ${cmd === 'list' ? 'status' : cmd}`);
    }
    expect((await runCli(home, ['status', 'nope'])).code).toBe(1);
    // Log files that cannot be written: exit 1 in the foreground and as a daemon alike, nothing keeps running.
    const notADir = path.join(home, 'file');
    fs.writeFileSync(notADir, '');
    for (const mode of [[], ['--daemon']]) {
      const r = await runCli(home, ['start', ECHO, '--listen', '127.0.0.1:0', '--log-dir', path.join(notADir, 'logs'), ...mode]);
      expect(r.code, mode.join()).toBe(1);
      expect(r.stderr).toContain('cannot write log files');
    }
    expect((await runCli(home, ['list'])).stdout).toContain('no cluster is running');
    expect((await runCli(home, ['list'])).stdout).toContain('no cluster is running');
  });
});
