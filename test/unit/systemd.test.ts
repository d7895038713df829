import { describe, expect, it } from 'vitest';
import { environmentWord, execWord, renderUnit, type UnitSpec } from '../../src/cli/systemd-unit.js';
import { hostFromHex } from '../../src/master/proc-sockets.js';
import { takeNotifyTarget } from '../../src/master/sd-notify.js';
import { matchPassed, takeListenFds, type Passed } from '../../src/master/socket-activation.js';
import type { ListenAddress } from '../../src/shared/config.js';

describe('ExecStart= words (systemd.service(5), "Command lines")', () => {
  it('leaves plain words alone', () => {
    expect(execWord('/usr/bin/node')).toBe('/usr/bin/node');
    expect(execWord('--listen')).toBe('--listen');
    expect(execWord('0.0.0.0:8080')).toBe('0.0.0.0:8080');
    expect(execWord('[::]:8080')).toBe('"[::]:8080"');
  });

  it('doubles % (specifiers) and $ (variable expansion), inside quotes too', () => {
    expect(execWord('100%')).toBe('100%%');
    expect(execWord('$HOME')).toBe('$$HOME');
    expect(execWord('a b$c%d')).toBe('"a b$$c%%d"');
  });

  it('quotes spaces, quotes, backslashes, ; and the empty word, with C escapes', () => {
    expect(execWord('/srv/my app/app.js')).toBe('"/srv/my app/app.js"');
    expect(execWord('say "hi"')).toBe('"say \\"hi\\""');
    expect(execWord('C:\\x')).toBe('"C:\\\\x"');
    expect(execWord(';')).toBe('";"');
    expect(execWord('')).toBe('""');
    expect(execWord("it's")).toBe('"it\'s"');
    expect(execWord('a\nb\tc\x01')).toBe('"a\\nb\\tc\\x01"');
  });

  it('quotes Environment= assignments, doubling % but not $ (no expansion there)', () => {
    expect(environmentWord('ROCKET_LISTEN', '0.0.0.0:80,unix:/run/a b.sock')).toBe('"ROCKET_LISTEN=0.0.0.0:80,unix:/run/a b.sock"');
    expect(environmentWord('X', '$5 and 10%')).toBe('"X=$5 and 10%%"');
  });
});

const spec: UnitSpec = {
  name: 'api',
  app: '/srv/api/app.js',
  execStart: ['/usr/bin/node', '/opt/rc/bin/rocket-cluster', 'start', '/srv/api/app.js', '--workers', '2'],
  workingDirectory: '/srv/api',
  environment: [['NODE_ENV', 'production']],
  omitted: [],
  userUnit: false,
  runAs: null,
  shutdownDelay: 5000,
  shutdownTimeout: 10_000,
  drainTimeout: 30_000,
  startTimeout: 15_000,
};

describe('renderUnit', () => {
  it('writes a Type=notify system unit whose stop timeout is above the master\'s own bounds', () => {
    const unit = renderUnit(spec);
    const lines = unit.split('\n').filter((l) => !l.startsWith('#'));
    expect(lines).toContain('Type=notify');
    expect(lines).toContain('NotifyAccess=all');
    expect(lines).toContain('ExecStart=/usr/bin/node /opt/rc/bin/rocket-cluster start /srv/api/app.js --workers 2');
    expect(lines).toContain('ExecReload=/bin/kill -HUP $MAINPID');
    expect(lines).toContain('KillMode=mixed');
    expect(lines).toContain('TimeoutStopSec=45'); // 5 s delay + max(10, 30) s + 10 s
    expect(lines).toContain('TimeoutStartSec=25');
    expect(lines).toContain('Restart=on-failure');
    expect(lines).toContain('WorkingDirectory=/srv/api');
    expect(lines).toContain('Environment="NODE_ENV=production"');
    expect(lines).toContain('After=network.target');
    expect(lines).toContain('WantedBy=multi-user.target');
    expect(lines.some((l) => l.startsWith('User='))).toBe(false);
  });

  it('writes a user unit for default.target', () => {
    const lines = renderUnit({ ...spec, userUnit: true }).split('\n');
    expect(lines).toContain('WantedBy=default.target');
    expect(lines).not.toContain('After=network.target');
  });

  it('refuses a line break where a value fills the rest of the line', () => {
    expect(() => renderUnit({ ...spec, workingDirectory: '/srv/a\nExecStartPre=/bin/evil' })).toThrow(/line break/);
  });
});

const tcp = (host: string, port: number, fd = 3): Passed => ({ fd, name: null, socket: { kind: 'tcp', host, port, listening: true } });
const unix = (path: string, fd = 3): Passed => ({ fd, name: null, socket: { kind: 'unix', path, listening: true } });
const at = (host: string, port: number): ListenAddress => ({ kind: 'tcp', host, port });

describe('socket activation: which passed socket serves which --listen address', () => {
  it('serves every passed socket, in order, when no --listen was given', () => {
    const m = matchPassed([at('127.0.0.1', 8080)], [tcp('::', 80, 3), unix('/run/app.sock', 4)], false);
    expect(m.listen).toEqual([at('::', 80), { kind: 'unix', path: '/run/app.sock' }]);
    expect(m.sockets.map((p) => p.fd)).toEqual([3, 4]);
  });

  it('matches by port and path whatever order systemd passed them in, the same host first', () => {
    const listen: ListenAddress[] = [at('0.0.0.0', 80), { kind: 'unix', path: '/run/app.sock' }, at('127.0.0.1', 443)];
    const passed = [tcp('127.0.0.1', 443, 3), tcp('::', 443, 4), unix('/run/app.sock', 5), tcp('0.0.0.0', 80, 6)];
    expect(() => matchPassed(listen, passed, true)).toThrow(/fd 4 \(\[::\]:443\) is not a --listen address/);
    const m = matchPassed(listen, [passed[0]!, passed[2]!, passed[3]!], true);
    expect(m.sockets.map((p) => p.fd)).toEqual([6, 5, 3]);
    expect(m.notes).toEqual([]);
  });

  it('notes an address served by a socket on another host, and gives port 0 the next TCP socket', () => {
    const m = matchPassed([at('127.0.0.1', 80), at('127.0.0.1', 0)], [tcp('::', 80, 3), tcp('::', 81, 4)], true);
    expect(m.sockets.map((p) => p.fd)).toEqual([3, 4]);
    expect(m.notes).toHaveLength(1);
    expect(m.notes[0]).toMatch(/127\.0\.0\.1:80 is served by fd 3 \(\[::\]:80\)/);
  });

  it('fails naming an address no socket fits, and sockets that cannot be served', () => {
    expect(() => matchPassed([at('0.0.0.0', 8080)], [tcp('::', 80)], true)).toThrow(/no passed socket is 0\.0\.0\.0:8080 \(passed: fd 3 \(\[::\]:80\)\)/);
    expect(() => matchPassed([], [{ fd: 3, name: 'x.socket', socket: { kind: 'tcp', host: '127.0.0.1', port: 1, listening: false } }], false)).toThrow(/does not listen.*Accept=no/);
    expect(() => matchPassed([], [{ fd: 3, name: null, socket: { kind: 'other', what: 'a UDP socket' } }], false)).toThrow(/ListenStream=/);
  });
});

describe('the variables systemd sets for the master alone', () => {
  it('takes LISTEN_* only for this pid, and removes them either way', () => {
    const other = { LISTEN_PID: '1', LISTEN_FDS: '1', LISTEN_FDNAMES: 'a', KEEP: 'x' };
    expect(takeListenFds(other, 42)).toBeNull();
    expect(other).toEqual({ KEEP: 'x' });
    const ours: NodeJS.ProcessEnv = { LISTEN_PID: '42', LISTEN_FDS: '2', LISTEN_FDNAMES: 'web.socket:admin' };
    const passed = takeListenFds(ours, 42);
    expect(passed?.map((p) => [p.fd, p.name])).toEqual([
      [3, 'web.socket'],
      [4, 'admin'],
    ]);
    expect(ours).toEqual({});
  });

  it('takes NOTIFY_SOCKET, and the watchdog only when WATCHDOG_PID is unset or this pid', () => {
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '@sd', WATCHDOG_USEC: '3000000', WATCHDOG_PID: '42' };
    expect(takeNotifyTarget(env, 42)).toEqual({ socket: '@sd', watchdogUsec: 3_000_000 });
    expect(env).toEqual({});
    expect(takeNotifyTarget({ NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: '3000000', WATCHDOG_PID: '7' }, 42)).toEqual({ socket: '/run/n', watchdogUsec: null });
    expect(takeNotifyTarget({ WATCHDOG_USEC: '3000000' }, 42)).toBeNull();
  });
});

describe('/proc addresses', () => {
  it('reads IPv4 and IPv6 hosts written as machine-order words', () => {
    expect(hostFromHex('0100007F', 'LE')).toBe('127.0.0.1');
    expect(hostFromHex('7F000001', 'BE')).toBe('127.0.0.1');
    expect(hostFromHex('00000000000000000000000000000000', 'LE')).toBe('::');
    expect(hostFromHex('00000000000000000000000001000000', 'LE')).toBe('::1');
    expect(hostFromHex('B80D0120000000000000000001000000', 'LE')).toBe('2001:db8::1');
  });
});
