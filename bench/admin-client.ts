import { setTimeout as sleep } from 'node:timers/promises';
import type { StatusReport } from '../src/shared/status-report.js';

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
