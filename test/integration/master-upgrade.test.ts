import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { onCleanup } from '../helpers/cleanup.js';
import { runCli } from '../helpers/cli.js';
import { alive, fixture, launch, parkedAndHeld, whenListening, type Cluster } from '../helpers/cluster.js';
import { keepAliveLoad } from '../helpers/load.js';
import { RawClient } from '../helpers/raw-client.js';
import { get } from '../helpers/requests.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocket-upgrade-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A config file for the echo app; rewritten between start and upgrade to show the new master reads it again. */
function writeConfig(name: string, settings: Record<string, unknown>): string {
  const file = path.join(dir, `${name}.config.json`);
  fs.writeFileSync(file, JSON.stringify({ app: fixture('echo.mjs'), name, listen: '127.0.0.1:0', admin: '127.0.0.1:0', ...settings }));
  return file;
}

/** Upgrades through the CLI; the new master is no child of the test's process, so it is stopped by pid when the test ends. */
async function upgrade(cluster: Cluster, name: string): Promise<number> {
  const result = await runCli(cluster.home, ['upgrade', name]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const pid = Number(/new master pid (\d+)/.exec(result.stdout)?.[1]);
  onCleanup(async () => {
    if (!alive(pid)) return;
    process.kill(pid, 'SIGKILL');
    await expect.poll(() => alive(pid), { timeout: 10_000 }).toBe(false);
  });
  return pid;
}

/** The pid in an echo answer. */
const pidOf = (answer: string) => Number(/"pid":(\d+)/.exec(answer)?.[1]);

describe('rocket-cluster upgrade (a new master takes over)', () => {
  it('under keep-alive load: no failed request, the same listening port, the config on disk read again, the keep-alive connections and a parked one carried over', async () => {
    const name = 'upg';
    // A long keep-alive time: the parked connection must outlive the upgrade under load, however slow this machine is.
    const config = writeConfig(name, { workers: 1, parkWhen: 'idle', parkAfter: 200, keepAliveTimeout: 60_000 });
    const cluster = await whenListening(launch(['start', '--config', config]));
    const before = await cluster.status();

    // One connection parked in the monitor, then load.
    const parked = await RawClient.connect(cluster.port);
    await parked.write(get('/p1'));
    expect((await parked.responses(1))[0]?.body).toContain('"url":"/p1"');
    await parkedAndHeld(cluster, 1);
    const traffic = keepAliveLoad(cluster.port, 20);
    await expect.poll(() => traffic.counts.ok, { timeout: 10_000 }).toBeGreaterThan(300);

    writeConfig(name, { workers: 2, parkWhen: 'idle', parkAfter: 200, keepAliveTimeout: 60_000 });
    const newPid = await upgrade(cluster, name);
    expect(newPid).not.toBe(cluster.pid);
    const exit = await cluster.exited;
    expect(exit.code).toBe(0);
    const handed = cluster.logs.find((l) => l.msg.startsWith('upgrade complete'));
    expect(Number(handed?.handedOver)).toBeGreaterThan(0);

    const during = traffic.counts.ok;
    await expect.poll(() => traffic.counts.ok, { timeout: 10_000 }).toBeGreaterThan(during + 300);
    await traffic.stop();
    expect(traffic.counts.errors).toEqual([]);

    // The parked connection's next request, on the same socket, is served by a worker of the new master.
    await parked.write(get('/p2'));
    const answer = (await parked.responses(2))[1]?.body ?? '';
    expect(answer).toContain('"url":"/p2"');
    expect(before.workers.map((w) => w.pid)).not.toContain(pidOf(answer));
    expect(parked.closed).toBe(false);
    parked.close();

    // The new master serves on the same port with the config now on disk (2 workers), and answers its name.
    const status = await runCli(cluster.home, ['status', name, '--json']);
    const report = JSON.parse(status.stdout) as { status: { pid: number; workers: { state: string }[]; listening: string[] } };
    expect(report.status.pid).toBe(newPid);
    expect(report.status.workers.filter((w) => w.state === 'ready')).toHaveLength(2);
    expect(report.status.listening).toEqual([`127.0.0.1:${cluster.port}`]);
    expect((await runCli(cluster.home, ['stop', name])).code).toBe(0);
    await expect.poll(() => alive(newPid), { timeout: 10_000 }).toBe(false);
  }, 60_000);

  it('a new master that cannot start is stopped, the upgrade exits 1 with the reason, and the old master keeps serving', async () => {
    const name = 'upgfail';
    const config = writeConfig(name, { workers: 1 });
    const cluster = await whenListening(launch(['start', '--config', config]));
    // The config on disk is broken now: the new master cannot resolve it.
    fs.writeFileSync(config, JSON.stringify({ app: fixture('echo.mjs'), name, listen: '127.0.0.1:0', workers: 0 }));
    const result = await runCli(cluster.home, ['upgrade', name]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/upgrade not done: .*workers 0/);
    expect(alive(cluster.pid)).toBe(true);
    const res = await fetch(`http://127.0.0.1:${cluster.port}/still`);
    expect(res.status).toBe(200);
    expect(pidOf(await res.text())).toBeGreaterThan(0);
    // Its control socket still answers: nothing was handed over.
    expect((await runCli(cluster.home, ['status', name])).code).toBe(0);
    expect((await cluster.stop()).code).toBe(0);
  });
});
