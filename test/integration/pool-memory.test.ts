import { describe, expect, it } from 'vitest';
import { fixture, launch, startCluster, type Cluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';
import { get } from '../helpers/requests.js';

// The pool memory budget (--pool-memory-soft, --pool-memory-hard) against the
// workers' real RSS: the fixture holds a written Buffer per /grow, about 55 MB
// of RSS per idle worker besides.
const APP = fixture('memory-app.mjs');

/** Sends one request per new connection, all at once; resolves with each answer's pid, the connections kept open. */
async function requestEach(cluster: Cluster, paths: readonly string[]): Promise<{ pids: number[]; clients: RawClient[] }> {
  const clients = await Promise.all(paths.map(() => RawClient.connect(cluster.port)));
  await Promise.all(clients.map((c, i) => c.write(get(paths[i]!))));
  const responses = await Promise.all(clients.map((c) => c.responses(1, 20_000)));
  return { pids: responses.map(([r]) => (JSON.parse(r!.body) as { pid: number }).pid), clients };
}

async function readyWorkers(cluster: Cluster): Promise<number> {
  return (await cluster.status()).workers.filter((w) => w.state === 'ready').length;
}

describe('pool memory budget', () => {
  it('above --pool-memory-soft, load that would grow the pool does not grow it, and the hold is logged once', async () => {
    const cluster = await startCluster(APP, [
      '--min-workers', '1', '--max-workers', '3',
      '--worker-connections', '1', // one slow request fills the worker: the next ones wait in the queue
      '--queue-timeout', '0',
      '--pool-memory-soft', '150',
      // Filling 150 MB keeps the event loop busy: on a loaded machine long enough to grow the pool for saturation
      // before the workers' RSS is reported over the budget. Only the queue may ask for growth here.
      '--elu-full', '1',
    ]);
    expect((await cluster.status()).pool.memory).toMatchObject({ soft: 150, hard: null, over: null, holding: null, held: 0 });
    const grow = await requestEach(cluster, ['/grow?mb=150']);
    for (const c of grow.clients) c.close();
    await expect.poll(async () => (await cluster.status()).pool.memory.over, { timeout: 10_000 }).toBe('memory-soft');
    // Three slow requests on one worker of one connection each: without the budget the pool grows to 3 (scaling.test.ts).
    const slow = requestEach(cluster, [1, 2, 3].map((n) => `/slow?ms=1500&n=${n}`));
    const held = await cluster.waitForLog((l) => l.msg === 'pool growth held back: memory-soft');
    expect(held).toMatchObject({ reason: 'memory-soft', softMb: 150 });
    expect(held.wanted).toMatch(/waiting and every worker full/);
    const { pids, clients } = await slow;
    for (const c of clients) c.close();
    expect(new Set(pids).size).toBe(1); // all served by the one worker, one after the other
    const status = await cluster.status();
    expect(status.pool.events.filter((e) => e.kind === 'grow')).toEqual([]);
    expect(status.workers).toHaveLength(1);
    expect(status.pool.memory).toMatchObject({ over: 'memory-soft', holding: 'memory-soft', held: 1 });
    expect(status.pool.memory.rss).toBeGreaterThan(150 * 1024 * 1024);
    // The policy wanted to grow at every tick while two requests waited: one line for the episode, not one per tick.
    expect(cluster.logs.filter((l) => l.msg.startsWith('pool growth held back'))).toHaveLength(1);
    const metrics = await (await fetch(`${cluster.adminUrl}/metrics`)).text();
    expect(metrics).toContain(`rocket_cluster_pool_memory_limit_bytes{limit="soft"} ${150 * 1024 * 1024}`);
    expect(metrics).toMatch(/^rocket_cluster_scale_held_total 1$/m);
    expect(metrics).toMatch(/^rocket_cluster_pool_resident_memory_bytes \d+$/m);
  });

  it('above --pool-memory-hard, one worker retires with reason memory-hard, and never below --min-workers', async () => {
    const cluster = await startCluster(APP, [
      '--min-workers', '2', '--max-workers', '3',
      '--worker-connections', '1', // one connection per worker: each /grow below reaches another worker
      '--accept', 'master',
      '--scale-down-after', '600000', // no idle shrink meanwhile
      '--pool-memory-hard', '300',
    ]);
    cluster.child.kill('SIGTTIN'); // a third worker, above the minimum (SIGTTIN does not move --min-workers)
    await expect.poll(() => readyWorkers(cluster), { timeout: 10_000 }).toBe(3);
    expect((await cluster.status()).pool.memory.over).toBeNull(); // 3 idle workers: about 165 MB
    // 3 × 150 MB: above 300 MB, and still above it with one worker fewer.
    const { pids, clients } = await requestEach(cluster, [1, 2, 3].map(() => '/grow?mb=150'));
    expect(new Set(pids).size).toBe(3);
    const shrink = await cluster.waitForLog((l) => l.msg === 'pool shrinks');
    expect(shrink.reason).toMatch(/^memory-hard: workers' RSS \d+ MB above --pool-memory-hard 300 MB$/);
    // Still above it once that one has gone and the others reported: at the minimum, nothing more retires.
    await cluster.waitForLog((l) => l.msg === 'pool memory above --pool-memory-hard at --min-workers: no worker retired');
    for (const c of clients) c.close();
    const status = await cluster.status();
    expect(status.pool.events.filter((e) => e.kind === 'shrink').map((e) => [e.workers, e.reason.split(':')[0]])).toEqual([[2, 'memory-hard']]);
    expect(status.workers.filter((w) => w.state === 'ready')).toHaveLength(2);
    expect(status.pool.memory).toMatchObject({ hard: 300, over: 'memory-hard' });
    expect(status.restarts).toBe(0);
  });

  it('retires one worker at a time: the next only after the last has exited and the rest reported', async () => {
    const cluster = await startCluster(APP, [
      '--min-workers', '1', '--max-workers', '3',
      '--worker-connections', '1',
      '--accept', 'master',
      '--scale-down-after', '600000',
      '--pool-memory-hard', '600',
    ]);
    // One at a time: two signals sent together may arrive as one.
    cluster.child.kill('SIGTTIN');
    await expect.poll(() => readyWorkers(cluster), { timeout: 10_000 }).toBe(2);
    cluster.child.kill('SIGTTIN');
    await expect.poll(() => readyWorkers(cluster), { timeout: 10_000 }).toBe(3);
    // 3 × 200 MB is above 600 MB, 2 × 200 MB is not. Each response waits 3 s, so the retiring worker
    // drains that long: retiring again before its exit (its RSS still counts) would take a second one.
    const { pids, clients } = await requestEach(cluster, [1, 2, 3].map(() => '/grow?mb=200&ms=3000'));
    expect(new Set(pids).size).toBe(3);
    await cluster.waitForLog((l) => l.msg === 'pool shrinks');
    // Settled: no worker draining, the total within budget.
    await expect.poll(async () => {
      const s = await cluster.status();
      return s.workers.every((w) => w.state === 'ready') && s.pool.memory.over === null;
    }, { timeout: 15_000 }).toBe(true);
    for (const c of clients) c.close();
    const status = await cluster.status();
    expect(status.pool.events.filter((e) => e.kind === 'shrink').map((e) => e.reason.split(':')[0])).toEqual(['memory-hard']);
    expect(status.workers).toHaveLength(2);
  });

  it('--pool-memory-soft above --pool-memory-hard is a usage error (exit 2) naming both', async () => {
    const master = launch(['start', APP, '--listen', '127.0.0.1:0', '--pool-memory-soft', '200', '--pool-memory-hard', '100']);
    expect((await master.finished).code).toBe(2);
    expect(master.stderr()).toContain('--pool-memory-soft 200 is above --pool-memory-hard 100');
  });
});
