import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { onCleanup } from '../helpers/cleanup.js';
import { fixture, launch } from '../helpers/cluster.js';
import { BIN, ROOT } from '../helpers/paths.js';

/** `rocket-cluster startup systemd …`, run to its end. */
async function startup(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const run = launch(['startup', 'systemd', ...args], options);
  const { code } = await run.finished;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

function tempDir(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), name));
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * `systemd-analyze verify` on unit files: systemd's own parser. It exits 0 on
 * a line it cannot parse too ("…, ignoring"), so nothing on stderr is the test.
 */
function verify(files: readonly string[], user = false): { status: number | null; stderr: string } {
  const runtime = tempDir('rc-xdg-');
  const args = [...(user ? ['--user'] : []), 'verify', ...files];
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: runtime } });
  return { status: r.status, stderr: r.stderr };
}

/** The unit's settings, comments left out. */
const settings = (unit: string) => unit.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

describe('rocket-cluster startup systemd', () => {
  it('prints a Type=notify unit that runs `start` in the foreground with the same app and options, quoted for systemd', async () => {
    // A working directory and app path with a space and a %: both need escaping in a unit.
    const dir = tempDir('rc unit 100% ');
    const app = path.join(dir, 'my app.mjs');
    fs.copyFileSync(fixture('echo.mjs'), app);
    const env = { NODE_ENV: 'production', ROCKET_QUEUE_SIZE: '64', ROCKET_TLS_PASSPHRASE: 'secret', ROCKET_ACCEPT: undefined, ROCKET_SHUTDOWN_DELAY: undefined };
    const { code, stdout, stderr } = await startup(
      ['my app.mjs', '--listen', '0.0.0.0:8080', '--listen', 'unix:run/app.sock', '-l', 'https://0.0.0.0:8443', '--tls-cert', 'tls/cert.pem', '--tls-key', 'tls/key.pem', '--workers', '2', '--no-access-log', '--run-as', 'nobody', '--drain-timeout', '45000', '--name', 'api'],
      { cwd: dir, env },
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const q = (s: string) => `"${s.replace(/%/g, '%%')}"`;
    expect(settings(stdout)).toEqual([
      '[Unit]',
      `Description=rocket-cluster api (${app.replace(/%/g, '%%')})`,
      'After=network.target',
      '[Service]',
      'Type=notify',
      'NotifyAccess=all',
      // The app and a relative unix: path made absolute; start's --user from --run-as; options in the option table's order.
      `ExecStart=${process.execPath} ${BIN} start ${q(app)} --name api --listen 0.0.0.0:8080 --listen ${q(`unix:${path.join(dir, 'run/app.sock')}`)} --listen https://0.0.0.0:8443 --tls-cert ${q(path.join(dir, 'tls/cert.pem'))} --tls-key ${q(path.join(dir, 'tls/key.pem'))} --user nobody --workers 2 --drain-timeout 45000 --no-access-log`,
      'ExecReload=/bin/kill -HUP $MAINPID',
      'KillMode=mixed',
      'TimeoutStopSec=55', // max(10 s shutdown, 45 s drain) + 10 s
      'TimeoutStartSec=25',
      'Restart=on-failure',
      `WorkingDirectory=${dir.replace(/%/g, '%%')}`,
      'Environment="ROCKET_QUEUE_SIZE=64"',
      'Environment="NODE_ENV=production"',
      '[Install]',
      'WantedBy=multi-user.target',
    ]);
    expect(stdout).toContain('# Not written here (a unit file is readable by every user): ROCKET_TLS_PASSPHRASE.');
    expect(stdout).toContain('then the monitor, the workers and the\n# master itself run as nobody');
    expect(stdout).not.toContain('secret');

    const file = path.join(tempDir('rc-units-'), 'api.service');
    fs.writeFileSync(file, stdout);
    expect(verify([file])).toEqual({ status: 0, stderr: '' });
  });

  it('writes a user unit with --user and --output; `start`\'s own --user is --run-as here', async () => {
    const out = path.join(tempDir('rc-units-'), 'hello.service');
    const written = await startup([fixture('echo.mjs'), '--user', '--output', out], { cwd: ROOT });
    expect(written.code).toBe(0);
    expect(written.stdout).toBe(`wrote ${out}\n  then: systemctl --user daemon-reload && systemctl --user enable --now hello\n`);
    const unit = fs.readFileSync(out, 'utf8');
    expect(settings(unit)).toContain('WantedBy=default.target');
    expect(settings(unit)).not.toContain('After=network.target');
    expect(verify([out], true)).toEqual({ status: 0, stderr: '' });

    const value = await startup([fixture('echo.mjs'), '--user', 'www-data'], { cwd: ROOT });
    expect(value.code).toBe(2);
    expect(value.stderr).toContain('--user takes no value here: it writes a user unit (systemctl --user). To run the cluster as "www-data", write --run-as www-data');
    const both = await startup([fixture('echo.mjs'), '--user', '--run-as', 'www-data'], { cwd: ROOT });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('a user unit runs as you, so it cannot switch to another user (www-data)');
  });

  it('checks the options as start does: a bad one exits 2 naming it, and nothing is written', async () => {
    const out = path.join(tempDir('rc-units-'), 'bad.service');
    const bad = await startup([fixture('echo.mjs'), '--workers', '0', '--output', out], { cwd: ROOT });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('rocket-cluster: --workers 0: expected an integer from 1 to 256\n');
    expect(fs.existsSync(out)).toBe(false);
    const unknown = await startup([fixture('echo.mjs'), '--wrokers', '2'], { cwd: ROOT });
    expect(unknown.code).toBe(2);
  });

  it('ships a socket unit and a service unit that systemd accepts', () => {
    const dir = tempDir('rc-units-');
    for (const name of ['rocket-cluster.socket', 'rocket-cluster.service']) {
      // The example's node must exist for verify: it checks ExecStart's program.
      const text = fs.readFileSync(path.join(ROOT, 'examples/deploy', name), 'utf8').replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `);
      fs.writeFileSync(path.join(dir, name), text);
    }
    expect(verify([path.join(dir, 'rocket-cluster.socket'), path.join(dir, 'rocket-cluster.service')])).toEqual({ status: 0, stderr: '' });
  });
});
