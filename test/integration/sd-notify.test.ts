import { describe, expect, it } from 'vitest';
import { onCleanup } from '../helpers/cleanup.js';
import { runCli } from '../helpers/cli.js';
import { alive, fixture, launch } from '../helpers/cluster.js';
import { notifyReceiver, type NotifyMessage } from '../helpers/systemd.js';

/** The address in a STATUS= line: `…; listening 127.0.0.1:PORT`. */
const listeningIn = (m: NotifyMessage) => /listening (\S+)/.exec(m.vars.get('STATUS') ?? '')?.[1];

describe('sd_notify: the master tells systemd what it does', () => {
  it('READY=1 once listening, RELOADING=1 then READY=1 around SIGHUP, STATUS= lines, WATCHDOG=1 pings, STOPPING=1 on SIGTERM', async () => {
    const since = process.hrtime.bigint() / 1000n;
    const receiver = await notifyReceiver(`@rc-notify-${process.pid}-${Date.now()}`); // abstract namespace, as systemd's own
    const master = launch(['start', fixture('env-app.mjs'), '--listen', '127.0.0.1:0', '--workers', '2'], {
      env: { NOTIFY_SOCKET: receiver.address, WATCHDOG_USEC: '1000000', WATCHDOG_PID: undefined },
    });

    const ready = await receiver.next((m) => m.vars.get('READY') === '1');
    // READY=1 is sent once the address listens: a request made the moment it arrives is served.
    const address = listeningIn(ready.message);
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    const res = await fetch(`http://${address}/`);
    const body = (await res.json()) as { env: Record<string, string | null> };
    expect(res.status).toBe(200);
    // The variables are the master's alone: no worker (nor the app's own children) sees them.
    expect(body.env).toEqual({ LISTEN_PID: null, LISTEN_FDS: null, LISTEN_FDNAMES: null, NOTIFY_SOCKET: null, WATCHDOG_USEC: null, WATCHDOG_PID: null });
    expect(ready.message.vars.get('STATUS')).toMatch(/^running: 2 workers \(2 ready\), generation 1, queue 0, parked 0; listening /);

    // Pings every WATCHDOG_USEC / 2.
    const firstPing = await receiver.next((m) => m.text === 'WATCHDOG=1');
    await receiver.next((m) => m.text === 'WATCHDOG=1', firstPing.index + 1);

    master.child.kill('SIGHUP');
    const reloading = await receiver.next((m) => m.vars.get('RELOADING') === '1', ready.index + 1);
    const monotonic = BigInt(reloading.message.vars.get('MONOTONIC_USEC') ?? '0');
    // CLOCK_MONOTONIC of this machine, read by the master between the test's start and now.
    expect(monotonic > since && monotonic <= process.hrtime.bigint() / 1000n).toBe(true);
    const reloaded = await receiver.next((m) => m.vars.get('READY') === '1', reloading.index + 1);
    expect(reloaded.message.vars.get('STATUS')).toMatch(/^running: 2 workers \(2 ready\), generation 2,/);

    expect(await master.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    // The master waits for its last message to be read before it exits.
    const stopping = await receiver.next((m) => m.vars.get('STOPPING') === '1', reloaded.index + 1);
    expect(stopping.message.vars.get('STATUS')).toMatch(/^stopping: /);

    const kinds = receiver.messages.map((m) => [...m.vars.keys()].find((k) => k !== 'STATUS' && k !== 'MONOTONIC_USEC') ?? 'STATUS');
    const order = kinds.filter((k) => k !== 'WATCHDOG' && k !== 'STATUS');
    expect(order).toEqual(['READY', 'RELOADING', 'READY', 'STOPPING']);
    expect(kinds.filter((k) => k === 'WATCHDOG').length).toBeGreaterThanOrEqual(2);
  });

  it('a master upgrade: the new master sends READY=1 with MAINPID= its pid, and the old one no STOPPING=1', async () => {
    const receiver = await notifyReceiver(`@rc-notify-up-${process.pid}-${Date.now()}`);
    const master = launch(['start', fixture('env-app.mjs'), '--listen', '127.0.0.1:0', '--workers', '1', '--name', 'notifyup'], {
      env: { NOTIFY_SOCKET: receiver.address, WATCHDOG_USEC: undefined, WATCHDOG_PID: undefined },
    });
    const ready = await receiver.next((m) => m.vars.get('READY') === '1');
    expect(ready.message.vars.has('MAINPID')).toBe(false);
    const upgraded = await runCli(master.home, ['upgrade', 'notifyup']);
    expect(upgraded.code).toBe(0);
    const newPid = Number(/new master pid (\d+)/.exec(upgraded.stdout)?.[1]);
    onCleanup(async () => {
      if (!alive(newPid)) return;
      process.kill(newPid, 'SIGKILL');
      await expect.poll(() => alive(newPid), { timeout: 10_000 }).toBe(false);
    });
    const taken = await receiver.next((m) => m.vars.get('READY') === '1', ready.index + 1);
    expect(taken.message.vars.get('MAINPID')).toBe(String(newPid));
    expect((await master.exited).code).toBe(0);
    // The old master left without a word: the service is the new master's.
    expect(receiver.messages.some((m) => m.vars.get('STOPPING') === '1')).toBe(false);
    expect((await runCli(master.home, ['stop', 'notifyup'])).code).toBe(0);
    await receiver.next((m) => m.vars.get('STOPPING') === '1', taken.index + 1);
  });
});
