import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { fixture, newHome, startCluster } from '../helpers/cluster.js';

const ECHO = fixture('echo.mjs');

/** Sends raw bytes to a control socket and returns everything it answers until it closes. */
async function rawExchange(socketPath: string, bytes: string | Buffer): Promise<string> {
  const socket = net.connect(socketPath);
  await once(socket, 'connect');
  let answer = '';
  socket.setEncoding('utf8').on('data', (d: string) => (answer += d));
  socket.on('error', () => {});
  socket.write(bytes);
  await once(socket, 'close');
  return answer;
}

function errorOf(answer: string): { code: string; message: string } {
  return (JSON.parse(answer.trim().split('\n')[0] as string) as { error: { code: string; message: string } }).error;
}

describe('the control socket', () => {
  it('is 0600 in a 0700 directory owned by the user, and removed when the cluster stops', async () => {
    const cluster = await startCluster(ECHO, ['--name', 'perm']);
    const dir = path.join(cluster.home, 'rocket-cluster');
    const sock = path.join(dir, 'perm.sock');
    const d = fs.lstatSync(dir);
    const s = fs.lstatSync(sock);
    expect(d.isDirectory() && !d.isSymbolicLink()).toBe(true);
    expect(d.mode & 0o777).toBe(0o700);
    expect(s.isSocket()).toBe(true);
    expect(s.mode & 0o777).toBe(0o600);
    expect(s.uid).toBe(process.getuid?.());
    expect(d.uid).toBe(process.getuid?.());
    await cluster.stop();
    expect(fs.existsSync(sock)).toBe(false);
  });

  it('refuses an oversized, malformed or out-of-schema message with RC_ERR_CONTROL_REQUEST, and keeps serving', async () => {
    const cluster = await startCluster(ECHO, ['--name', 'strict']);
    const sock = path.join(cluster.home, 'rocket-cluster', 'strict.sock');

    const huge = errorOf(await rawExchange(sock, Buffer.alloc(5000, 'a')));
    expect(huge).toMatchObject({ code: 'RC_ERR_CONTROL_REQUEST' });
    expect(huge.message).toContain('larger than 4096 bytes');

    const cases: [string, RegExp][] = [
      ['not json\n', /not JSON/],
      ['{"v":1,"cmd":"status","path":"/etc/passwd"}\n', /path/],
      ['{"v":2,"cmd":"status"}\n', /protocol version 2/],
      ['{"v":1,"cmd":"exec","argv":["sh"]}\n', /invalid request/],
      ['{"v":1,"cmd":"scale","to":2,"by":1}\n', /exactly one/],
      ['{"v":1,"cmd":"scale","to":"2"}\n', /invalid request/],
      ['{"v":1,"cmd":"logs","lines":1000000000,"follow":false}\n', /invalid request/],
      ['[]\n', /invalid request/],
    ];
    for (const [bytes, message] of cases) {
      const e = errorOf(await rawExchange(sock, bytes));
      expect(e.code, bytes).toBe('RC_ERR_CONTROL_REQUEST');
      expect(e.message, bytes).toMatch(message);
    }
    const status = await runCli(cluster.home, ['status', 'strict', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).status.workers.length).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${cluster.port}/`)).status).toBe(200);
    expect(cluster.logs.filter((l) => l.msg.startsWith('control request refused'))).toHaveLength(cases.length + 1);
  });

  it('a second cluster with a running name fails at once and the first keeps serving', async () => {
    const first = await startCluster(ECHO, ['--name', 'dup']);
    const second = await runCli(first.home, ['start', ECHO, '--name', 'dup', '--listen', '127.0.0.1:0']);
    expect(second.code).toBe(1);
    expect(second.stdout + second.stderr).toContain('RC_ERR_CONTROL_NAME_IN_USE');
    expect((await fetch(`http://127.0.0.1:${first.port}/`)).status).toBe(200);
    expect((await runCli(first.home, ['status', 'dup'])).code).toBe(0);
  });

  it("replaces a stale socket (its cluster was killed) after checking nobody answers on it", async () => {
    const home = newHome();
    const dir = path.join(home, 'rocket-cluster');
    fs.mkdirSync(dir, { mode: 0o700 });
    const sock = path.join(dir, 'stale.sock');
    // A process that binds the socket and dies by SIGKILL leaves the file behind.
    const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    onTestFinished(() => void holder.kill('SIGKILL'));
    await once(holder.stdout!, 'data');
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    expect(fs.lstatSync(sock).isSocket()).toBe(true);
    // The CLI does not take a stale socket for a running cluster.
    expect((await runCli(home, ['list'])).stdout).toContain('no cluster is running');
    expect(await runCli(home, ['stop', 'all'])).toMatchObject({ code: 0, stdout: 'no cluster is running\n' });
    const reload = await runCli(home, ['reload']);
    expect(reload.code).toBe(1);
    expect(reload.stderr).toContain('no cluster is running');
    expect((await runCli(home, ['stop', '../../etc/x'])).code).toBe(2); // a name is never a path
    const cluster = await startCluster(ECHO, ['--name', 'stale'], { home });
    expect((await runCli(home, ['status', 'stale'])).code).toBe(0);
    await cluster.stop();
  });

  it('refuses a runtime directory open to others, a symlinked one, and a non-socket at the socket path', async () => {
    const start = (home: string) => runCli(home, ['start', ECHO, '--name', 'unsafe', '--listen', '127.0.0.1:0']);

    const open = newHome();
    fs.mkdirSync(path.join(open, 'rocket-cluster'), { mode: 0o755 });
    fs.chmodSync(path.join(open, 'rocket-cluster'), 0o755);
    const r1 = await start(open);
    expect(r1.code).toBe(1);
    expect(r1.stdout + r1.stderr).toMatch(/RC_ERR_CONTROL_DIR.*mode 755/);

    const linked = newHome();
    fs.mkdirSync(path.join(linked, 'elsewhere'), { mode: 0o700 });
    fs.symlinkSync(path.join(linked, 'elsewhere'), path.join(linked, 'rocket-cluster'));
    const r2 = await start(linked);
    expect(r2.code).toBe(1);
    expect(r2.stdout + r2.stderr).toMatch(/RC_ERR_CONTROL_DIR.*symbolic link/);
    expect((await runCli(linked, ['list'])).code).toBe(1); // the CLI refuses it too

    const squatted = newHome();
    fs.mkdirSync(path.join(squatted, 'rocket-cluster'), { mode: 0o700 });
    fs.writeFileSync(path.join(squatted, 'rocket-cluster', 'unsafe.sock'), 'not a socket');
    const r3 = await start(squatted);
    expect(r3.code).toBe(1);
    expect(r3.stdout + r3.stderr).toMatch(/RC_ERR_CONTROL_DIR.*not a socket/);
    expect(fs.readFileSync(path.join(squatted, 'rocket-cluster', 'unsafe.sock'), 'utf8')).toBe('not a socket');
  });

  it('without a usable HOME (a container), a foreground cluster serves without a control socket; a daemon refuses to start', async () => {
    const noHome = { HOME: '/nonexistent/rc-home', XDG_RUNTIME_DIR: '' };
    const cluster = await startCluster(ECHO, ['--name', 'nohome'], { env: noHome });
    expect((await fetch(`http://127.0.0.1:${cluster.port}/`)).status).toBe(200);
    const warning = await cluster.waitForLog((l) => l.code === 'RC_ERR_CONTROL_DIR');
    expect(warning.msg).toContain('no control socket');
    expect(warning.level).toBe(40);
    expect((await cluster.stop()).code).toBe(0);

    const logDir = newHome();
    const daemon = await runCli(logDir, ['start', ECHO, '--daemon', '--listen', '127.0.0.1:0', '--log-dir', logDir], { env: noHome });
    expect(daemon.code).toBe(1);
    expect(daemon.stderr).toMatch(/cannot create \/nonexistent\/rc-home\/\.rocket-cluster/);
  });
});
