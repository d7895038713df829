// Baseline 2: the app under node:cluster, round-robin. Usage: node cluster-server.js <app> <workers>
// This is the "node:cluster script" that DESIGN.md §10 measured; rocket-cluster's
// targets are ratios against it.
import cluster from 'node:cluster';
import { announce, serveApp } from './serve-app.js';

const [app, workersArg = '2'] = process.argv.slice(2);
if (app === undefined) throw new Error('usage: cluster-server.js <app> [workers]');

if (cluster.isPrimary) {
  // Already the default on Linux, set explicitly so the baseline does not
  // silently change with NODE_CLUSTER_SCHED_POLICY or the platform. It must be
  // set before the first fork.
  cluster.schedulingPolicy = cluster.SCHED_RR;
  const workers = Number(workersArg);
  let listening = 0;
  // Port 0 in cluster workers: the primary binds once and every worker shares
  // that port, so any worker's address is the cluster's address.
  cluster.on('listening', (_worker, address) => {
    if (++listening === workers) announce({ address: address.address ?? '127.0.0.1', port: address.port, family: 'IPv4' });
  });
  // A dead worker is not replaced: a crash during a run must show as errors,
  // not be hidden by a respawn.
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) process.stdout.write(`${JSON.stringify({ level: 50, msg: 'worker exited', pid: worker.process.pid, code, signal })}\n`);
  });
  let stopping = false;
  process.on('SIGTERM', () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
    process.exit(0);
  });
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  await serveApp(app);
}
