import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import readline from 'node:readline';
import { describe, expect, it } from 'vitest';
import type { Cluster, ReloadEvent, ScaleEvent, WorkerEvent } from '../../src/api/index.js';
import { api, startApi } from '../helpers/api.js';
import { onCleanup } from '../helpers/cleanup.js';
import { runCli } from '../helpers/cli.js';
import { alive, fixture, homeEnv, newHome } from '../helpers/cluster.js';

/** Every event a handle emits from now on, in order. */
function record(cluster: Cluster) {
  const seen = { worker: [] as WorkerEvent[], scale: [] as ScaleEvent[], reload: [] as ReloadEvent[], errors: [] as { code: string; message: string }[], exits: [] as unknown[] };
  cluster.on('worker', (e) => seen.worker.push(e));
  cluster.on('scale', (e) => seen.scale.push(e));
  cluster.on('reload', (e) => seen.reload.push(e));
  cluster.on('error', (e) => seen.errors.push({ code: e.code, message: e.message }));
  cluster.on('exit', (e) => seen.exits.push(e));
  return seen;
}

async function pidsOf(cluster: Cluster): Promise<number[]> {
  const { status } = await cluster.status();
  return [cluster.pid, status.monitor.pid, ...status.workers.map((w) => w.pid)].filter((p): p is number => p !== null);
}

describe('programmatic API: startCluster and its handle', () => {
  it('serves on the port it bound; reload, scale, status and stop resolve, each pushing its events; stop waits for every process', async () => {
    const cluster = await startApi({ app: fixture('echo.mjs'), workers: 2, name: 'api-lifecycle' });
    const seen = record(cluster);
    expect(cluster.name).toBe('api-lifecycle');
    const [address] = cluster.addresses;
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(address).not.toMatch(/:0$/);
    const res = await fetch(`http://${address}/hello`);
    expect(res.status).toBe(200);
    const served = (await res.json()) as { pid: number; url: string };
    expect(served.url).toBe('/hello');

    const before = (await cluster.status()).status.workers;
    expect(before.map((w) => w.pid)).toContain(served.pid);
    // The reply comes after every event of the reload (one channel, in order).
    // Started from options, not a config file: nothing is read again, so nothing applied and nothing waiting.
    expect(await cluster.reload()).toEqual({ generation: 2, workers: 2, applied: [], needsUpgrade: [] });
    expect(seen.reload).toEqual([
      { phase: 'started', generation: 2 },
      { phase: 'done', generation: 2 },
    ]);
    expect(seen.worker.filter((e) => e.event === 'spawned').map((e) => e.generation)).toEqual([2, 2]);
    expect(seen.worker.filter((e) => e.event === 'ready').map((e) => e.generation)).toEqual([2, 2]);
    const retired = seen.worker.filter((e) => e.event === 'exited');
    expect(retired.map((e) => e.pid).sort()).toEqual(before.map((w) => w.pid).sort());
    for (const e of retired) expect(e).toMatchObject({ reason: 'retired', code: 0, signal: null, generation: 1 });

    expect(await cluster.scale(3)).toEqual({ min: 3, max: 3, workers: 3 });
    expect(seen.scale).toEqual([{ kind: 'grow', workers: 3, reason: 'scale command' }]);
    const third = seen.worker.at(-1)!;
    expect(third).toMatchObject({ event: 'spawned', generation: 2 });
    await expect.poll(() => seen.worker.some((e) => e.event === 'ready' && e.id === third.id), { timeout: 15_000 }).toBe(true);

    const { status, usage } = await cluster.status();
    expect(status.workers.map((w) => w.state)).toEqual(['ready', 'ready', 'ready']);
    expect(status.listening).toEqual(cluster.addresses);
    expect(Object.keys(usage).map(Number)).toContain(cluster.pid);
    const pids = await pidsOf(cluster);
    expect(pids).toHaveLength(5);

    expect(await cluster.stop()).toEqual({ code: 0, signal: null });
    for (const pid of pids) expect(alive(pid), `pid ${pid} still running after stop() resolved`).toBe(false);
    expect(seen.worker.filter((e) => e.event === 'exited' && e.reason === 'stopped')).toHaveLength(3);
    expect(seen.exits).toEqual([{ code: 0, signal: null }]);
    expect(seen.errors).toEqual([]);
    await expect(cluster.status()).rejects.toMatchObject({ code: 'RC_ERR_CONTROL_NOT_RUNNING' });
    expect(await cluster.stop()).toEqual({ code: 0, signal: null });
  });

  it.each([
    { options: { workers: 0 }, code: 'RC_ERR_CONFIG_INVALID', message: 'workers 0: expected an integer from 1 to 256' },
    { options: { wrokers: 2 }, code: 'RC_ERR_CONFIG_INVALID', message: 'unknown option "wrokers": did you mean "workers"?' },
    { options: { listen: ['localhost'] }, code: 'RC_ERR_CONFIG_INVALID', message: 'listen "localhost"' },
    { options: { minWorkers: 3, maxWorkers: 2 }, code: 'RC_ERR_CONFIG_INVALID', message: 'minWorkers 3 is above maxWorkers 2' },
    { options: { app: undefined }, code: 'RC_ERR_CONFIG_APP', message: 'no app to run' },
  ])('a bad option rejects with the RocketError the CLI gives: $code, $message', async ({ options, code, message }) => {
    const started = api.startCluster({ app: fixture('echo.mjs'), ...(options as object) } as never);
    const error = (await started.catch((e: unknown) => e)) as InstanceType<typeof api.RocketError>;
    expect(error).toBeInstanceOf(api.RocketError);
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
  });

  it('an app that throws at load rejects with RC_ERR_WORKER_START naming the cause, as `start` fails', async () => {
    const error = (await startApi({ app: fixture('shape-throws.mjs'), workers: 1 }).catch((e: unknown) => e)) as InstanceType<typeof api.RocketError>;
    expect(error).toBeInstanceOf(api.RocketError);
    expect(error.code).toBe('RC_ERR_WORKER_START');
    expect(error.message).toMatch(/database unreachable at db\.invalid:5432/);
  });

  it('an address in use rejects with RC_ERR_LISTEN_BIND', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise((resolve) => taken.close(resolve)));
    const { port } = taken.address() as net.AddressInfo;
    await expect(startApi({ app: fixture('echo.mjs'), workers: 1, listen: [`127.0.0.1:${port}`] })).rejects.toMatchObject({ code: 'RC_ERR_LISTEN_BIND' });
  });

  it('a crash loop is an `error` event (RC_ERR_WORKER_START) after `exited` events with reason "crashed"; scale() is then refused', async () => {
    const cluster = await startApi({ app: fixture('supervisor-app.mjs'), workers: 1 }, { env: { CRASH_AFTER_MS: '300' } });
    const seen = record(cluster);
    await expect.poll(() => seen.errors, { timeout: 20_000 }).toHaveLength(1);
    expect(seen.errors[0]).toMatchObject({ code: 'RC_ERR_WORKER_START', message: expect.stringMatching(/^crash loop: .*in a row died within/) });
    const crashed = seen.worker.filter((e) => e.event === 'exited');
    expect(crashed.length).toBeGreaterThan(0);
    for (const e of crashed) expect(e).toMatchObject({ reason: 'crashed', code: 1 });
    await expect(cluster.scale(2)).rejects.toMatchObject({ code: 'RC_ERR_CONTROL_REFUSED', message: expect.stringContaining('crash loop') });
  });

  it('a master that dies is an `error` event (RC_ERR_IPC_CLOSED) and an `exit`; its workers go with it', async () => {
    const cluster = await startApi({ app: fixture('echo.mjs'), workers: 1 });
    const seen = record(cluster);
    const pids = await pidsOf(cluster);
    const exit = once(cluster, 'exit');
    process.kill(cluster.pid, 'SIGKILL');
    expect(await exit).toEqual([{ code: null, signal: 'SIGKILL' }]);
    expect(seen.errors).toEqual([{ code: 'RC_ERR_IPC_CLOSED', message: expect.stringContaining('exited (code null, signal SIGKILL)') }]);
    await expect(cluster.reload()).rejects.toMatchObject({ code: 'RC_ERR_CONTROL_NOT_RUNNING' });
    await expect.poll(() => pids.filter(alive), { timeout: 15_000 }).toEqual([]);
  });
});

/** Runs test/fixtures/api-consumer.mjs (a user's launcher script) and reads the pids it prints. */
async function consumer(detached: boolean, name: string) {
  const home = newHome();
  const child = spawn(process.execPath, [fixture('api-consumer.mjs'), fixture('echo.mjs'), ...(detached ? ['detached'] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...homeEnv(home), CLUSTER_NAME: name },
  });
  const exited = once(child, 'exit');
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const [line] = (await once(readline.createInterface({ input: child.stdout }), 'line')) as [string];
  const printed = JSON.parse(line) as { master: number; monitor: number; workers: number[]; address: string; name: string };
  const pids = [printed.master, printed.monitor, ...printed.workers];
  // Whatever the test does, no process of the cluster outlives it.
  onCleanup(() => pids.filter(alive).forEach((pid) => process.kill(pid, 'SIGKILL')));
  return { child, exited, home, printed, pids };
}

describe('programmatic API: the cluster is tied to the caller', () => {
  it('a caller killed with SIGKILL takes its cluster with it: master, monitor and workers exit', async () => {
    const { child, exited, printed, pids } = await consumer(false, 'api-tied');
    expect((await fetch(`http://${printed.address}/`)).status).toBe(200);
    expect(pids.every(alive)).toBe(true);
    child.kill('SIGKILL');
    await exited;
    await expect.poll(() => pids.filter(alive), { timeout: 15_000 }).toEqual([]);
  });

  it('a detached cluster outlives its caller, which exits on its own; the CLI stops it by name', async () => {
    const { exited, home, printed, pids } = await consumer(true, 'api-detached');
    expect(await exited).toEqual([0, null]);
    expect(pids.every(alive)).toBe(true);
    expect((await fetch(`http://${printed.address}/`)).status).toBe(200);
    const stop = await runCli(home, ['stop', 'api-detached']);
    expect(stop.code, stop.stderr).toBe(0);
    await expect.poll(() => pids.filter(alive), { timeout: 15_000 }).toEqual([]);
  });
});
