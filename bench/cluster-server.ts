// Baseline 2: the app under node:cluster, round-robin. Usage: node cluster-server.js <app> <workers>
// This is the "node:cluster script" that DESIGN.md §10 measured; rocket-cluster's
// targets are ratios against it.
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

const [app, workersArg = '2'] = process.argv.slice(2);
if (app === undefined) throw new Error('usage: cluster-server.js <app> [workers]');

// How long a new worker may take to listen, and an old one to exit after
// disconnect() before it is SIGKILLed (PM2 waits 1.6 s by default; a longer
// grace only lets keep-alive clients finish, it does not tell them to leave).
const LISTEN_TIMEOUT_MS = 15_000;
const EXIT_TIMEOUT_MS = 10_000;

const log = (fields: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ role: 'primary', pid: process.pid, ...fields })}\n`);
};

if (cluster.isPrimary) {
  // Already the default on Linux, set explicitly so the baseline does not
  // silently change with NODE_CLUSTER_SCHED_POLICY or the platform. It must be
  // set before the first fork.
  cluster.schedulingPolicy = cluster.SCHED_RR;
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

  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  await serveApp(app);
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
