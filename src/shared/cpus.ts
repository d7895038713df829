import fs from 'node:fs';
import os from 'node:os';

/**
 * CPUs this process may really use: the smaller of what the scheduler lets it
 * run on (`os.availableParallelism()`, which follows CPU affinity) and its
 * cgroup CPU quota (containers, Kubernetes limits), never the host's core count.
 */
export function usableCpus(read: (path: string) => string | null = readOrNull): number {
  const quota = cgroupV2Quota(read('/sys/fs/cgroup/cpu.max')) ?? cgroupV1Quota(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'), read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  const parallelism = os.availableParallelism();
  return Math.max(1, quota === null ? parallelism : Math.min(parallelism, Math.ceil(quota)));
}

/** cgroup v2 `cpu.max`: "max 100000" (no limit) or "<quota> <period>". */
export function cgroupV2Quota(text: string | null): number | null {
  if (text === null) return null;
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === 'max' || period === undefined) return null;
  const q = Number(quota);
  const p = Number(period);
  return q > 0 && p > 0 ? q / p : null;
}

/** cgroup v1: `cpu.cfs_quota_us` (-1: no limit) over `cpu.cfs_period_us`. */
export function cgroupV1Quota(quotaText: string | null, periodText: string | null): number | null {
  if (quotaText === null || periodText === null) return null;
  const q = Number(quotaText.trim());
  const p = Number(periodText.trim());
  return q > 0 && p > 0 ? q / p : null;
}

function readOrNull(path: string): string | null {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
