import { describe, expect, it, onTestFinished } from 'vitest';
import { alive, fixture, parkedAndHeld, startCluster, type Cluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;

async function start(args: readonly string[]): Promise<Cluster> {
  const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '1', '--park-when', 'idle', '--park-after', '100', ...args]);
  onTestFinished(async () => {
    await cluster.stop();
  });
  return cluster;
}

/** A keep-alive connection that has been served one request. */
async function served(cluster: Cluster, path: string): Promise<RawClient> {
  const client = await RawClient.connect(cluster.port);
  onTestFinished(() => client.close());
  await client.write(get(path));
  await client.responses(1);
  return client;
}

/**
 * SIGSTOPs the monitor: its event loop stops as a hung one would. A stopped
 * process never sees its IPC channel close, so cleanup (which runs before the
 * cluster's stop: hooks run in reverse) resumes and kills it unless the master
 * already has.
 */
async function freezeMonitor(cluster: Cluster): Promise<number> {
  const pid = (await cluster.status()).monitor.pid!;
  process.kill(pid, 'SIGSTOP');
  onTestFinished(() => {
    if (!alive(pid)) return;
    process.kill(pid, 'SIGCONT');
    process.kill(pid, 'SIGKILL');
  });
  return pid;
}

async function waitForNewMonitor(cluster: Cluster, old: number): Promise<void> {
  await expect
    .poll(async () => {
      const { monitor } = await cluster.status();
      return monitor.state === 'ready' && monitor.pid !== old;
    }, { timeout: 15_000 })
    .toBe(true);
}

const monitorErrors = (cluster: Cluster) => cluster.logs.filter((l) => l.level >= 50 && l.msg.startsWith('monitor'));

describe('monitor supervision', () => {
  it('a monitor silent for --worker-timeout is killed and replaced; what it held is counted lost, and parking works again', async () => {
    const cluster = await start(['--worker-timeout', '1000']);
    const held = await served(cluster, '/held');
    await parkedAndHeld(cluster, 1);
    const frozen = await freezeMonitor(cluster);

    const killed = await cluster.waitForLog((l) => l.msg === 'monitor hung: killing it', 10_000);
    expect(killed).toMatchObject({ role: 'master', level: 50, monitorPid: frozen });
    expect(String(killed.reason)).toMatch(/^no heartbeat for \d+ ms/);
    await held.closedByServer(); // the monitor held the only copy of its socket
    await waitForNewMonitor(cluster, frozen);
    expect(alive(frozen)).toBe(false);
    const status = await cluster.status();
    expect(status.monitor).toMatchObject({ restarts: 1, lastRestart: { reason: killed.reason } });
    expect(status.parked.lost).toBe(1);
    const exit = await cluster.waitForLog((l) => l.msg === 'monitor exited: starting a new one');
    expect(exit).toMatchObject({ monitorPid: frozen, signal: 'SIGKILL', lostParked: 1, reason: killed.reason, restarts: 1 });
    expect(monitorErrors(cluster)).toHaveLength(1); // one error per incident, naming its cause

    // The new monitor parks, and a parked connection is woken and served.
    const again = await served(cluster, '/again');
    await expect.poll(async () => (await cluster.status()).parked.count, { timeout: 10_000 }).toBe(1);
    await again.write(get('/woken'));
    const responses = await again.responses(2);
    expect(JSON.parse(responses[1]!.body)).toMatchObject({ url: '/woken' });
    expect((await cluster.status()).connections.wakes).toBe(1);
  });

  it('a monitor that does not acknowledge a park within the ack timeout is killed and replaced; the park is refused, not also lost', async () => {
    // A long --worker-timeout: the missing ack, not the heartbeat, must find the hang.
    const cluster = await start(['--worker-timeout', '60000']);
    const held = await served(cluster, '/held');
    await parkedAndHeld(cluster, 1);
    const frozen = await freezeMonitor(cluster);
    const late = await served(cluster, '/late');
    await expect.poll(async () => (await cluster.status()).connections.parks, { timeout: 10_000 }).toBe(2);

    const killed = await cluster.waitForLog((l) => l.msg === 'monitor hung: killing it', 20_000);
    expect(killed).toMatchObject({ level: 50, monitorPid: frozen, reason: 'no ack for a parked connection within 10000 ms' });
    await late.closedByServer(); // closed by the master, which still owned it
    await held.closedByServer();
    await waitForNewMonitor(cluster, frozen);
    const status = await cluster.status();
    expect(status.monitor).toMatchObject({ restarts: 1, lastRestart: { reason: killed.reason } });
    expect(status.parked).toMatchObject({ lost: 1, refused: 1 });
    expect(monitorErrors(cluster)).toHaveLength(1);
  });
});
