import { flushLogs, type ChildLog } from '../shared/child-log.js';

/**
 * A worker whose master is gone (SIGKILL, a crash) drains: it stops accepting
 * (its copies of the listening sockets close at once, so the port is free)
 * and finishes in-flight requests. But nothing bounds that drain any more:
 * the master that would kill it after --shutdown-timeout is dead. A response
 * that never ends (a client that stopped reading, an event stream) would keep
 * an orphan alive for good. So the worker bounds it itself, checked on its
 * heartbeat: orphaned longer than --shutdown-timeout, it exits.
 */
let orphanedAt: number | null = null;

export function exitIfOrphaned(now: number, shutdownTimeout: number, log: ChildLog): void {
  if (process.connected) return;
  orphanedAt ??= now;
  if (now - orphanedAt < shutdownTimeout) return;
  log.warn({ shutdownTimeoutMs: shutdownTimeout }, 'master gone and requests still in flight after --shutdown-timeout: exiting');
  flushLogs();
  process.exit(1);
}
