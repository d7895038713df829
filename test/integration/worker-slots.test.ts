import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { fixture, startCluster, type Cluster } from '../helpers/cluster.js';
import { newJournal } from '../helpers/journal.js';

// ROCKET_WORKER_ID (and NODE_APP_INSTANCE): a stable slot per worker, 0 to max − 1 (src/master/slots.ts).
const app = fixture('lifecycle-export.mjs');

interface Live {
  readonly pid: number;
  readonly slot: number;
}

/** The workers that count toward the pool (not retiring, not exited), by slot. */
async function live(cluster: Cluster): Promise<Live[]> {
  const { workers } = await cluster.status();
  return workers
    .filter((w) => w.state === 'ready' || w.state === 'spawning')
    .map((w) => ({ pid: w.pid!, slot: w.slot }))
    .sort((a, b) => a.slot - b.slot);
}

async function settled(cluster: Cluster, count: number): Promise<Live[]> {
  await expect
    .poll(async () => {
      const s = await cluster.status();
      return s.state === 'running' && s.workers.length === count && s.workers.every((w) => w.state === 'ready');
    }, { timeout: 30_000 })
    .toBe(true);
  return live(cluster);
}

/** What each worker read from its environment at start (the fixture's journal), by pid. */
function seen(journal: ReturnType<typeof newJournal>): Map<number, { slot: string; instance: string }> {
  return new Map(journal.read().filter((e) => e.what === 'started').map((e) => [e.pid, { slot: e.slot, instance: e.instance }]));
}

describe('worker slots (ROCKET_WORKER_ID)', () => {
  it('slots 0..n-1 at start, in each worker environment as ROCKET_WORKER_ID and NODE_APP_INSTANCE', async () => {
    const journal = newJournal();
    const cluster = await startCluster(app, ['--workers', '3'], { env: { LIFECYCLE_FILE: journal.file } });
    const workers = await settled(cluster, 3);
    expect(workers.map((w) => w.slot)).toEqual([0, 1, 2]);
    await expect.poll(() => seen(journal).size, { timeout: 10_000 }).toBe(3);
    const env = seen(journal);
    for (const w of workers) expect(env.get(w.pid)).toEqual({ slot: String(w.slot), instance: String(w.slot) });
  });

  it("a SIGKILLed worker's replacement takes its slot", async () => {
    const journal = newJournal();
    const cluster = await startCluster(app, ['--workers', '3'], { env: { LIFECYCLE_FILE: journal.file } });
    const before = await settled(cluster, 3);
    const victim = before.find((w) => w.slot === 1)!;
    process.kill(victim.pid, 'SIGKILL');
    await cluster.waitForLog((l) => l.msg === 'worker exited' && l.workerPid === victim.pid);
    const after = await settled(cluster, 3);
    expect(after.map((w) => w.slot)).toEqual([0, 1, 2]);
    const replacement = after.find((w) => w.slot === 1)!;
    expect(replacement.pid).not.toBe(victim.pid);
    expect(after.filter((w) => w.slot !== 1)).toEqual(before.filter((w) => w.slot !== 1));
    await expect.poll(() => seen(journal).get(replacement.pid), { timeout: 10_000 }).toEqual({ slot: '1', instance: '1' });
  });

  it('a reload: each new worker takes over the slot of the one it replaces; afterwards no slot is held twice', async () => {
    const cluster = await startCluster(app, ['--workers', '3']);
    const before = await settled(cluster, 3);
    cluster.child.kill('SIGHUP');
    await cluster.waitForLog((l) => l.msg === 'reload complete', 60_000);
    const after = await settled(cluster, 3);
    expect(after.map((w) => w.slot)).toEqual([0, 1, 2]);
    expect(after.some((w) => before.some((b) => b.pid === w.pid))).toBe(false);
    // In order: the new worker of each step was spawned into the slot of the old worker that step retired.
    const spawned = cluster.logs.filter((l) => l.msg === 'worker spawned' && l.generation === 2).map((l) => l.slot);
    const retired = cluster.logs.filter((l) => l.role === 'master' && l.msg === 'worker exited').map((l) => before.find((b) => b.pid === l.workerPid)!.slot);
    expect(spawned).toEqual(retired);
  });

  it('scale-up takes the lowest free slot; scale-down keeps slot 0', async () => {
    const cluster = await startCluster(app, ['--workers', '3']);
    const first = await settled(cluster, 3);
    const name = (await cluster.status()).name;
    // Slot 1's replacement is now the newest worker: the one a shrink retires (none holds a connection).
    const victim = first.find((w) => w.slot === 1)!;
    process.kill(victim.pid, 'SIGKILL');
    await cluster.waitForLog((l) => l.msg === 'worker exited' && l.workerPid === victim.pid);
    await expect.poll(async () => (await live(cluster)).find((w) => w.slot === 1 && w.pid !== victim.pid) !== undefined, { timeout: 15_000 }).toBe(true);
    await settled(cluster, 3);
    expect((await runCli(cluster.home, ['scale', name, '2'])).code).toBe(0);
    expect((await settled(cluster, 2)).map((w) => w.slot)).toEqual([0, 2]);
    // The gap is filled, not slot 3 taken.
    expect((await runCli(cluster.home, ['scale', name, '3'])).code).toBe(0);
    expect((await settled(cluster, 3)).map((w) => w.slot)).toEqual([0, 1, 2]);
    // Slot 0 is the last to go, even as the newest worker (a replacement), which a tie would retire first.
    const zero = (await live(cluster)).find((w) => w.slot === 0)!;
    process.kill(zero.pid, 'SIGKILL');
    await cluster.waitForLog((l) => l.msg === 'worker exited' && l.workerPid === zero.pid);
    await expect.poll(async () => (await live(cluster)).find((w) => w.slot === 0 && w.pid !== zero.pid) !== undefined, { timeout: 15_000 }).toBe(true);
    await settled(cluster, 3);
    expect((await runCli(cluster.home, ['scale', name, '1'])).code).toBe(0);
    expect((await settled(cluster, 1)).map((w) => w.slot)).toEqual([0]);
    expect((await runCli(cluster.home, ['scale', name, '4'])).code).toBe(0);
    expect((await settled(cluster, 4)).map((w) => w.slot)).toEqual([0, 1, 2, 3]);
  });
});
