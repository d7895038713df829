import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { fixture, launch, startCluster, whenListening, type Cluster, type LogLine } from '../helpers/cluster.js';
import { entriesOf, newJournal } from '../helpers/journal.js';

// The app's shutdown hook (docs/APP-LIFECYCLE.md), on every way a worker leaves.
// Each fixture writes "closed pool" to its journal only after its fake pool's
// socket has closed and a further turn of the event loop: a worker that exited
// before awaiting the hook to its end would leave that line out.
const exported = fixture('lifecycle-export.mjs');
const signals = fixture('lifecycle-signals.mjs');

async function running(cluster: Cluster): Promise<number[]> {
  await expect.poll(async () => (await cluster.status()).state, { timeout: 15_000 }).toBe('running');
  return (await cluster.status()).workers.map((w) => w.pid!);
}

function workerExited(cluster: Cluster, pid: number): Promise<LogLine> {
  return cluster.waitForLog((l) => l.role === 'master' && l.msg === 'worker exited' && l.workerPid === pid, 30_000);
}

describe('the app shutdown hook', () => {
  it('stop: an exported onShutdown() runs to its end in every worker before it exits', async () => {
    const journal = newJournal();
    const cluster = await startCluster(exported, ['--workers', '2'], { env: { LIFECYCLE_FILE: journal.file } });
    const pids = await running(cluster);
    expect(await cluster.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const entries = journal.read();
    for (const pid of pids) expect(entriesOf(entries, pid)).toEqual(['started', 'hook start SIGTERM', 'closed pool onShutdown']);
  });

  it("reload: a listen() script's own SIGTERM listener (server.close, pool, process.exit(0)) runs in each old worker", async () => {
    const journal = newJournal();
    const cluster = await startCluster(signals, ['--workers', '2'], { env: { LIFECYCLE_FILE: journal.file, PORT: '0' } });
    const old = await running(cluster);
    cluster.child.kill('SIGHUP');
    await cluster.waitForLog((l) => l.msg === 'reload complete', 30_000);
    for (const pid of old) expect(await workerExited(cluster, pid)).toMatchObject({ code: 0, signal: null });
    const entries = journal.read();
    // One signal's listeners run, once (the app registered the same close for both): SIGTERM, as the master asked.
    for (const pid of old) expect(entriesOf(entries, pid)).toEqual(['started', 'hook start SIGTERM', 'closed pool SIGTERM']);
  });

  it('a SIGTERM listener that closes everything but never calls process.exit is done once nothing is left to run', async () => {
    const journal = newJournal();
    const cluster = await startCluster(signals, ['--workers', '1'], { env: { LIFECYCLE_FILE: journal.file, PORT: '0', HANDLER_EXIT: '0' } });
    const [pid] = await running(cluster);
    expect(await cluster.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    await cluster.finished;
    expect(entriesOf(journal.read(), pid!)).toEqual(['started', 'hook start SIGTERM', 'closed pool SIGTERM']);
    expect(cluster.logs.find((l) => l.msg === 'the app shutdown hook finished' && l.pid === pid)).toMatchObject({ how: 'idle' });
  });

  it('scale-down: the retired worker runs its hook', async () => {
    const journal = newJournal();
    const cluster = await startCluster(exported, ['--workers', '2'], { env: { LIFECYCLE_FILE: journal.file } });
    const pids = await running(cluster);
    const scaled = await runCli(cluster.home, ['scale', (await cluster.status()).name, '1']);
    expect(scaled.code).toBe(0);
    const gone = await cluster.waitForLog((l) => l.role === 'master' && l.msg === 'worker exited', 30_000);
    expect(gone).toMatchObject({ code: 0, signal: null });
    expect(pids).toContain(gone.workerPid);
    expect(entriesOf(journal.read(), gone.workerPid as number)).toEqual(['started', 'hook start SIGTERM', 'closed pool onShutdown']);
  });

  it('recycling (--max-requests): the recycled worker runs its hook', async () => {
    const journal = newJournal();
    const cluster = await startCluster(signals, ['--workers', '1', '--max-requests', '2'], { env: { LIFECYCLE_FILE: journal.file, PORT: '0' } });
    const [first] = await running(cluster);
    for (let i = 0; i < 2; i++) expect((await fetch(`http://127.0.0.1:${cluster.port}/`, { headers: { connection: 'close' } })).status).toBe(200);
    await cluster.waitForLog((l) => l.msg === 'recycling worker' && l.workerPid === first, 15_000);
    expect(await workerExited(cluster, first!)).toMatchObject({ code: 0, signal: null });
    expect(entriesOf(journal.read(), first!)).toEqual(['started', 'hook start SIGTERM', 'closed pool SIGTERM']);
  });

  it("Ctrl-C (SIGINT to the process group): a request in flight ends before the app's SIGINT listener and its process.exit(0)", async () => {
    const journal = newJournal();
    const release = path.join(path.dirname(journal.file), 'release');
    const cluster = await whenListening(
      launch(['start', signals, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', '1'], {
        detached: true,
        env: { LIFECYCLE_FILE: journal.file, RELEASE_FILE: release, PORT: '0' },
      }),
    );
    const [pid] = await running(cluster);
    const slow = fetch(`http://127.0.0.1:${cluster.port}/slow`).then(async (r) => ({ status: r.status, body: await r.text() }));
    await expect.poll(() => entriesOf(journal.read(), pid!), { timeout: 10_000 }).toContain('request start');
    process.kill(-cluster.pid, 'SIGINT');
    await cluster.waitForLog((l) => l.role === 'worker' && l.msg === 'draining' && l.pid === pid);
    fs.writeFileSync(release, '');
    expect(await slow).toEqual({ status: 200, body: 'slow done' });
    expect(await cluster.exited).toEqual({ code: 0, signal: null });
    expect(entriesOf(journal.read(), pid!)).toEqual(['started', 'request start', 'request end', 'hook start SIGINT', 'closed pool SIGINT']);
  });

  it('a hook that never finishes is cut off after --drain-timeout, logged naming the app; the worker exits by itself', async () => {
    const journal = newJournal();
    const cluster = await startCluster(exported, ['--workers', '1', '--drain-timeout', '500', '--shutdown-timeout', '30000'], {
      env: { LIFECYCLE_FILE: journal.file, HOOK_HANG: '1' },
    });
    const [pid] = await running(cluster);
    const exited = workerExited(cluster, pid!);
    expect(await cluster.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    await cluster.finished;
    expect(await exited).toMatchObject({ code: 0, signal: null }); // not killed by the master
    const overrun = cluster.logs.find((l) => l.role === 'worker' && l.level === 50 && l.pid === pid);
    expect(overrun).toMatchObject({ app: exported });
    expect(overrun!.withinMs).toBeLessThanOrEqual(500);
    expect(overrun!.msg).toContain(`shutdown hook of app ${exported} did not finish`);
    expect(entriesOf(journal.read(), pid!)).toEqual(['started', 'hook start SIGTERM']);
  });

  it('a hook that throws is logged naming the app, and the worker still exits', async () => {
    const journal = newJournal();
    const cluster = await startCluster(exported, ['--workers', '1'], { env: { LIFECYCLE_FILE: journal.file, HOOK_THROW: '1' } });
    const [pid] = await running(cluster);
    const exited = workerExited(cluster, pid!);
    expect(await cluster.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    await cluster.finished;
    expect(await exited).toMatchObject({ code: 0, signal: null });
    const failed = cluster.logs.find((l) => l.role === 'worker' && l.level === 50 && l.pid === pid);
    expect(failed).toMatchObject({ app: exported, hook: 'onShutdown()' });
    expect(failed!.msg).toContain('the pool would not close');
  });
});
