// Baseline 2: the app under node:cluster. Usage:
//   node cluster-server.js <app> [workers] [rr|none] [count]
// `rr` (the default) is cluster.SCHED_RR, the "node:cluster script" that
// DESIGN.md §10 measured; rocket-cluster's targets are ratios against it.
// `none` is cluster.SCHED_NONE: every worker accepts on the shared listening
// socket, as rocket-cluster's `--accept workers` does.
//
// `count`: each worker counts the requests it served; SIGUSR2 makes the
// primary ask every worker and log `{"msg":"served","workers":{"<pid>":n}}`
// (the balance measurement). Off by default so the baseline runs no extra code
// per request.
//
// SIGHUP: a rolling restart as people write it by hand with node:cluster: for
// each old worker, fork a new one, wait until it listens, then
// `worker.disconnect()` the old one (in the worker this is server.close():
// no new connections, the process exits when its connections are gone) and
// wait for it to exit. Logs `restart started` and `restart complete` (or
// `restart aborted` / `restart refused`) as JSON lines for the bench.
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { announce, serveApp } from './serve-app.js';

const [app, workersArg = '2', policy = 'rr', countArg] = process.argv.slice(2);
if (app === undefined || (policy !== 'rr' && policy !== 'none')) throw new Error('usage: cluster-server.js <app> [workers] [rr|none] [count]');

// How long a new worker may take to listen, and an old one to exit after
// disconnect() before it is SIGKILLed (PM2 waits 1.6 s by default; a longer
// grace only lets keep-alive clients finish, it does not tell them to leave).
const LISTEN_TIMEOUT_MS = 15_000;
const EXIT_TIMEOUT_MS = 10_000;
const ASK_TIMEOUT_MS = 2000;

const log = (fields: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ role: 'primary', pid: process.pid, ...fields })}\n`);
};

if (cluster.isPrimary) {
  // RR is already the default on Linux; set explicitly so the baseline does
  // not silently change with NODE_CLUSTER_SCHED_POLICY or the platform. It
  // must be set before the first fork.
  cluster.schedulingPolicy = policy === 'none' ? cluster.SCHED_NONE : cluster.SCHED_RR;
  const workers = Number(workersArg);
  let listening = 0;
  let announced = false;
  let stopping = false;
  let restarting = false;
  // Port 0 in cluster workers: the primary binds once and every worker shares
  // that port, so any worker's address is the cluster's address.
  cluster.on('listening', (_worker, address) => {
    if (!announced && ++listening === workers) {
      announced = true;
      announce({ address: address.address ?? '127.0.0.1', port: address.port, family: 'IPv4' });
    }
  });
  // A dead worker is not replaced: a crash during a run must show as errors,
  // not be hidden by a respawn. A worker retired by a restart is expected to exit.
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping && !worker.exitedAfterDisconnect) log({ level: 50, msg: 'worker exited', worker: worker.process.pid, code, signal });
  });
  process.on('SIGTERM', () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
    process.exit(0);
  });

  const restart = async (): Promise<void> => {
    if (restarting || stopping) {
      log({ level: 40, msg: 'restart refused: a restart is running' });
      return;
    }
    restarting = true;
    const started = Date.now();
    const old = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    log({ level: 30, msg: 'restart started', replacing: old.length });
    let killed = 0;
    try {
      for (const w of old) {
        const fresh = cluster.fork();
        try {
          await within(once(fresh, 'listening'), fresh, LISTEN_TIMEOUT_MS, 'new worker did not listen');
        } catch (e) {
          fresh.process.kill('SIGKILL'); // the old workers keep serving
          throw e;
        }
        const exited = once(w, 'exit');
        w.disconnect();
        const timer = setTimeout(() => {
          killed++;
          log({ level: 40, msg: 'old worker killed: still open after disconnect()', worker: w.process.pid, afterMs: EXIT_TIMEOUT_MS });
          w.process.kill('SIGKILL');
        }, EXIT_TIMEOUT_MS);
        try {
          await exited;
        } finally {
          clearTimeout(timer);
        }
      }
      log({ level: 30, msg: 'restart complete', ms: Date.now() - started, killed });
    } catch (e) {
      log({ level: 50, msg: `restart aborted: ${e instanceof Error ? e.message : String(e)}` });
    } finally {
      restarting = false;
    }
  };
  process.on('SIGHUP', () => void restart());
  process.on('SIGUSR2', () => {
    const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    void Promise.all(live.map(askServed)).then((counts) => log({ level: 30, msg: 'served', workers: Object.fromEntries(counts) }));
  });

  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  let served = 0;
  await serveApp(app, countArg === 'count' ? () => served++ : undefined);
  process.on('message', (m) => {
    if (m === 'served?') process.send?.({ served: countArg === 'count' ? served : null });
  });
}

/** [pid, requests served] of one worker; null when it does not count or does not answer. */
async function askServed(w: Worker): Promise<[string, number | null]> {
  const pid = String(w.process.pid);
  return new Promise((resolve) => {
    const done = (n: number | null): void => {
      clearTimeout(timer);
      w.off('message', onMessage);
      resolve([pid, n]);
    };
    const onMessage = (m: unknown): void => {
      if (typeof m === 'object' && m !== null && 'served' in m) done(typeof m.served === 'number' ? m.served : null);
    };
    const timer = setTimeout(() => done(null), ASK_TIMEOUT_MS);
    w.on('message', onMessage);
    w.send('served?');
  });
}

/** `p`, or an error if `worker` exits first or `ms` pass. */
async function within(p: Promise<unknown>, worker: Worker, ms: number, what: string): Promise<void> {
  const ac = new AbortController();
  try {
    await Promise.race([
      p,
      once(worker, 'exit', { signal: ac.signal }).then(() => {
        throw new Error(`${what}: it exited`);
      }),
      sleep(ms, undefined, { signal: ac.signal }).then(() => {
        throw new Error(`${what} within ${ms} ms`);
      }),
    ]);
  } finally {
    ac.abort();
  }
}
