import { setTimeout as sleep } from 'node:timers/promises';
import { controlRequest } from '../src/control/client.js';
import type { StatusReport } from '../src/shared/status-report.js';
import type { Server } from './servers.js';

/** `GET <admin>/status` of a running rocket-cluster. */
export async function getStatus(adminUrl: string): Promise<StatusReport> {
  const res = await fetch(`${adminUrl}/status`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${adminUrl}/status answered ${res.status}`);
  return (await res.json()) as StatusReport;
}

/**
 * Polls /status until `done` holds, failing after `timeoutMs`. Polling is the
 * only way to see a park from outside: it happens inside the cluster with no
 * signal to the client.
 */
export async function waitForStatus(
  adminUrl: string,
  what: string,
  done: (s: StatusReport) => boolean,
  timeoutMs: number,
  intervalMs = 20,
): Promise<StatusReport> {
  const deadline = Date.now() + timeoutMs;
  let last = await getStatus(adminUrl);
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last status: ${JSON.stringify({ parked: last.parked, connections: last.connections })}`);
    await sleep(intervalMs);
    last = await getStatus(adminUrl);
  }
  return last;
}

/** A rocket-cluster's status: from its admin listener if it has one, else over its control socket (what `rocket-cluster status --json` reads). */
export async function rocketStatus(s: Server): Promise<StatusReport> {
  if (s.adminUrl !== undefined) return getStatus(s.adminUrl);
  if (s.clusterName === undefined) throw new Error(`${s.name}: neither an admin listener nor a cluster name`);
  return (await controlRequest(s.clusterName, 'status', {}, { timeoutMs: 5000 })).status;
}
