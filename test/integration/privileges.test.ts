import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { onCleanup } from '../helpers/cleanup.js';
import { runCli, startDaemon } from '../helpers/cli.js';
import { alive, fixture, launch, whenListening, type Cluster, type LogLine } from '../helpers/cluster.js';

const ECHO = fixture('echo.mjs');
const isRoot = process.getuid?.() === 0;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocket-priv-'));
// Other users (nobody, www-data) must reach the sockets and log files made under it.
fs.chmodSync(dir, 0o755);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** uid, gid and supplementary groups of a process, from /proc. */
function credentials(pid: number): { uid: number; gid: number; groups: string } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => (status.match(new RegExp(`^${name}:[ \\t]*(.*)$`, 'm'))?.[1] ?? '').trim();
  return { uid: Number(field('Uid').split(/\s+/)[0]), gid: Number(field('Gid').split(/\s+/)[0]), groups: field('Groups') };
}

/** The master, the monitor and every worker that has not exited. */
async function clusterPids(cluster: Cluster): Promise<number[]> {
  const status = await cluster.status();
  const children = [status.monitor.pid, ...status.workers.filter((w) => w.state !== 'exited').map((w) => w.pid)];
  return [cluster.pid, ...children.filter((pid): pid is number => pid !== null)];
}

/** The first JSON line in the cluster's log files that matches, polled until it is there. */
async function waitForFileLine(own: string, match: (line: LogLine) => boolean): Promise<LogLine> {
  let found: LogLine | undefined;
  await expect
    .poll(
      () => {
        const lines = fs.existsSync(own) ? fs.readdirSync(own).filter((f) => f.endsWith('.log')).flatMap((f) => fs.readFileSync(path.join(own, f), 'utf8').split('\n')) : [];
        found = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine).find(match);
        return found !== undefined;
      },
      { timeout: 15_000 },
    )
    .toBe(true);
  return found!;
}

/** A port under 1024 that is free now: only root may bind it. */
async function freePrivilegedPort(): Promise<number> {
  for (let port = 1023; port > 900; port--) {
    const server = net.createServer();
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return port;
    }
  }
  throw new Error('no free port between 901 and 1023');
}

/** GET / over HTTP/1.1 on a unix socket or TCP port; resolves with the status line. */
async function statusLine(connect: () => net.Socket): Promise<string> {
  const socket = connect();
  await once(socket, 'connect');
  socket.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  let data = '';
  socket.setEncoding('latin1').on('data', (d: string) => (data += d));
  await once(socket, 'close');
  return data.split('\r\n')[0] ?? '';
}

describe('privileges', () => {
  it.runIf(isRoot)('--user nobody: binds a port under 1024 as root, then every process runs as nobody with no supplementary group; its log files are nobody\'s', async () => {
    const port = await freePrivilegedPort();
    const logDir = fs.mkdtempSync(path.join(dir, 'logs-'));
    fs.chmodSync(logDir, 0o755);
    const master = launch(['start', ECHO, '--admin', '127.0.0.1:0', '--workers', '2', '--listen', `127.0.0.1:${port}`, '--user', 'nobody', '--log-dir', logDir, '--name', 'priv']);
    // With --log-dir the master's lines go to the file, not stdout.
    const own = path.join(logDir, 'priv');
    const cluster = await whenListening({ ...master, waitForLog: (match) => waitForFileLine(own, match) });
    expect(cluster.port).toBe(port);
    expect((await waitForFileLine(own, (l) => l.msg === 'every address bound: now running as an unprivileged user')).user).toBe('nobody');
    const pids = await clusterPids(cluster);
    expect(pids).toHaveLength(4); // master, monitor, two workers
    for (const pid of pids) expect(credentials(pid)).toEqual({ uid: 65534, gid: 65534, groups: '' });
    expect(await statusLine(() => net.connect(port, '127.0.0.1'))).toBe('HTTP/1.1 200 OK');
    expect(fs.statSync(own).uid).toBe(65534);
    const files = fs.readdirSync(own);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(fs.lstatSync(path.join(own, file)).uid).toBe(65534);
    // A reload's new workers run as nobody too.
    cluster.child.kill('SIGHUP');
    await expect
      .poll(async () => (await cluster.status()).workers.filter((w) => w.generation === 2 && w.state === 'ready').length, { timeout: 20_000 })
      .toBe(2);
    // The new workers (an old one may still be finishing its shutdown hook and exit under our feet).
    const fresh = (await cluster.status()).workers.filter((w) => w.generation === 2 && w.pid !== null).map((w) => w.pid!);
    expect(fresh).toHaveLength(2);
    for (const pid of fresh) expect(credentials(pid).uid).toBe(65534);
    // The control socket and its directory are nobody's, so the master (nobody by now) removes its socket at exit;
    // root's CLI finds it there.
    const socket = '/run/rocket-cluster/65534/priv.sock';
    expect(fs.lstatSync(socket)).toMatchObject({ uid: 65534, gid: 65534 });
    expect(fs.lstatSync(socket).mode & 0o777).toBe(0o600);
    expect(fs.lstatSync(path.dirname(socket)).uid).toBe(65534);
    expect(fs.lstatSync(path.dirname(socket)).mode & 0o777).toBe(0o700);
    const status = await runCli(cluster.home, ['status', 'priv', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { status: { pid: number } }).status.pid).toBe(cluster.pid);
    expect((await runCli(cluster.home, ['list'])).stdout).toContain('priv');
    expect((await cluster.stop()).code).toBe(0);
    expect(fs.existsSync(socket)).toBe(false);
  });

  it.runIf(isRoot)('--user nobody as a daemon: its logs go to /var/log/rocket-cluster, and a master upgrade (the new master is nobody from the start) takes over its control socket', async () => {
    const name = `privd${process.pid}`;
    const home = fs.mkdtempSync(path.join(dir, 'home-'));
    onCleanup(() => fs.rmSync(path.join('/var/log/rocket-cluster', name), { recursive: true, force: true }));
    const daemon = await startDaemon(ECHO, ['--workers', '1', '--user', 'nobody', '--name', name], home);
    expect(daemon.start.stdout).toContain(`/var/log/rocket-cluster/${name}`);
    const socket = `/run/rocket-cluster/65534/${name}.sock`;
    expect(fs.lstatSync(socket).uid).toBe(65534);
    const upgraded = await runCli(home, ['upgrade', name]);
    expect(upgraded.code, upgraded.stderr).toBe(0);
    const pid = Number(/new master pid (\d+)/.exec(upgraded.stdout)?.[1]);
    onCleanup(() => {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    });
    expect(credentials(pid).uid).toBe(65534);
    // The new master claims the socket once the old one has let it go.
    await expect.poll(async () => (await runCli(home, ['status', name, '--json'])).stdout.includes(`"pid": ${pid}`), { timeout: 15_000 }).toBe(true);
    expect(fs.lstatSync(socket).uid).toBe(65534);
    expect(await statusLine(() => net.connect(daemon.port, '127.0.0.1'))).toBe('HTTP/1.1 200 OK');
    expect((await runCli(home, ['stop', name])).code).toBe(0);
    expect(fs.existsSync(socket)).toBe(false);
    // `stop` answers once the cluster has stopped; the master's last line follows the answer.
    await expect.poll(() => fs.readFileSync(path.join('/var/log/rocket-cluster', name, 'current.log'), 'utf8'), { timeout: 10_000 }).toContain('"msg":"stopped"');
  });

  it('an unknown --user or --group exits 2 naming it, before anything binds', async () => {
    for (const [flags, named] of [
      [['--user', 'no-such-user-rc'], '--user "no-such-user-rc": no such user'],
      [['--user', 'nobody', '--group', 'no-such-group-rc'], '--group "no-such-group-rc": no such group'],
      [['--listen', `unix:${path.join(dir, 'g.sock')}`, '--socket-group', 'no-such-group-rc'], '--socket-group "no-such-group-rc": no such group'],
    ] as const) {
      const master = launch(['start', ECHO, '--listen', '127.0.0.1:0', ...flags]);
      const exit = await master.finished;
      expect(exit.code).toBe(2);
      expect(master.stderr()).toContain(named);
      expect(master.logs.filter((l) => l.msg === 'listening')).toHaveLength(0);
    }
  });

  it.runIf(isRoot)('a master run as root without --user warns once that the workers run as root', async () => {
    const cluster = await whenListening(launch(['start', ECHO, '--admin', '127.0.0.1:0', '--listen', '127.0.0.1:0', '--workers', '2']));
    const warnings = cluster.logs.filter((l) => String(l.msg).startsWith('running as root'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level).toBe(40);
    expect((await cluster.stop()).code).toBe(0);
  });
});

describe('unix socket permissions', () => {
  it('--socket-mode 0660 --socket-group www-data: the socket file has them, and nginx running as www-data proxies to it; without them it cannot', async () => {
    const open = path.join(dir, 'open.sock');
    const closed = path.join(dir, 'closed.sock');
    // Per listen entry, in a config file: one socket for the web server's group, one left at the umask.
    const config = path.join(dir, 'sockets.config.json');
    fs.writeFileSync(config, JSON.stringify({ app: ECHO, workers: 1, listen: [{ address: 'unix:open.sock', socketMode: '0660', socketGroup: 'www-data' }, 'unix:closed.sock'] }));
    const cluster = await whenListening(launch(['start', '--config', config, '--admin', '127.0.0.1:0']));
    const st = fs.statSync(open);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.gid).toBe(33);
    expect(fs.statSync(closed).gid).toBe(0);
    if (!isRoot) return expect((await cluster.stop()).code).toBe(0);

    const nginx = await startNginx({ '/open/': open, '/closed/': closed });
    const through = await fetch(`http://127.0.0.1:${nginx.port}/open/x`);
    expect(through.status).toBe(200);
    expect(await through.text()).toContain('"url":"/x"');
    // The other socket has the umask's mode and root's group: www-data may not connect.
    expect((await fetch(`http://127.0.0.1:${nginx.port}/closed/x`)).status).toBe(502);
    expect(fs.readFileSync(nginx.errorLog, 'utf8')).toMatch(/closed\.sock failed \(13: Permission denied\)/);
    expect((await cluster.stop()).code).toBe(0);
  });

  it('replaces a stale socket file nothing answers on, and refuses a regular file or a live socket at the path, naming it', async () => {
    const stale = path.join(dir, 'stale.sock');
    // A socket file whose server is gone: what a SIGKILLed cluster leaves.
    const squatter = spawn(process.execPath, ['-e', "require('net').createServer().listen(process.argv[1], () => console.log('up'))", stale], { stdio: ['ignore', 'pipe', 'inherit'] });
    onCleanup(() => void squatter.kill('SIGKILL'));
    await once(squatter.stdout, 'data');
    squatter.kill('SIGKILL');
    await once(squatter, 'exit');
    expect(fs.lstatSync(stale).isSocket()).toBe(true);
    const cluster = await whenListening(launch(['start', ECHO, '--admin', '127.0.0.1:0', '--workers', '1', '--listen', `unix:${stale}`]));
    expect(await statusLine(() => net.connect(stale))).toBe('HTTP/1.1 200 OK');

    // The same path while that cluster answers on it: refused, and the live socket is left alone.
    const second = launch(['start', ECHO, '--workers', '1', '--listen', `unix:${stale}`, '--name', 'second']);
    expect((await second.finished).code).toBe(1);
    expect(second.stderr() + second.stdout()).toContain(`another process answers on ${stale}`);
    expect(await statusLine(() => net.connect(stale))).toBe('HTTP/1.1 200 OK');
    expect((await cluster.stop()).code).toBe(0);

    const regular = path.join(dir, 'data.txt');
    fs.writeFileSync(regular, 'precious');
    const refused = launch(['start', ECHO, '--workers', '1', '--listen', `unix:${regular}`]);
    expect((await refused.finished).code).toBe(1);
    expect(refused.stderr() + refused.stdout()).toContain(`${regular} exists and is not a socket`);
    expect(fs.readFileSync(regular, 'utf8')).toBe('precious');
  });
});

/** nginx as root with `user www-data`, proxying each location to a unix socket; stopped when the test ends. */
async function startNginx(locations: Record<string, string>): Promise<{ port: number; errorLog: string }> {
  const prefix = fs.mkdtempSync(path.join(dir, 'nginx-'));
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
  const errorLog = path.join(prefix, 'error.log');
  const conf = path.join(prefix, 'nginx.conf');
  const upstreams = Object.entries(locations)
    .map(([loc, sock]) => `location ${loc} { proxy_pass http://unix:${sock}:/; }`)
    .join('\n    ');
  fs.writeFileSync(
    conf,
    `user www-data www-data;
worker_processes 1;
daemon off;
pid ${path.join(prefix, 'nginx.pid')};
error_log ${errorLog} error;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port};
    ${upstreams}
  }
}
`,
  );
  const nginx = spawn(fs.existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx', ['-c', conf, '-p', prefix], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  nginx.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  onCleanup(async () => {
    if (nginx.exitCode === null && nginx.signalCode === null) {
      nginx.kill('SIGTERM');
      await once(nginx, 'exit');
    }
  });
  await expect
    .poll(
      async () => {
        if (nginx.exitCode !== null) throw new Error(`nginx exited ${nginx.exitCode}: ${stderr}`);
        return fetch(`http://127.0.0.1:${port}/none`).then(
          () => true,
          () => false,
        );
      },
      { timeout: 10_000 },
    )
    .toBe(true);
  return { port, errorLog };
}
