import pidusage from 'pidusage';
import type { ProcessUsage } from '../shared/control-protocol.js';

/**
 * CPU (% of one core since this pid's previous sample, or since it started)
 * and resident memory of each pid, read from /proc by pidusage. A pid that has
 * exited meanwhile is left out.
 */
export async function sampleUsage(pids: readonly number[]): Promise<Record<number, ProcessUsage>> {
  const stats = await pidusage([...pids]);
  const usage: Record<number, ProcessUsage> = {};
  for (const [pid, s] of Object.entries(stats)) {
    if (s) usage[Number(pid)] = { cpu: Math.round(s.cpu * 10) / 10, memory: s.memory };
  }
  return usage;
}
