import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { cgroupV1Quota, cgroupV2Quota, usableCpus } from '../../src/shared/cpus.js';

describe('usable CPUs', () => {
  it('reads cgroup v2 cpu.max', () => {
    expect(cgroupV2Quota('max 100000\n')).toBeNull();
    expect(cgroupV2Quota('150000 100000\n')).toBe(1.5);
    expect(cgroupV2Quota('')).toBeNull();
    expect(cgroupV2Quota(null)).toBeNull();
  });

  it('reads cgroup v1 quota and period', () => {
    expect(cgroupV1Quota('-1\n', '100000\n')).toBeNull();
    expect(cgroupV1Quota('50000\n', '100000\n')).toBe(0.5);
    expect(cgroupV1Quota(null, '100000')).toBeNull();
  });

  it('takes the smaller of the quota (rounded up) and the parallelism, at least 1', () => {
    const files = (map: Record<string, string>) => (p: string) => map[p] ?? null;
    const parallelism = os.availableParallelism();
    expect(usableCpus(files({}))).toBe(parallelism);
    expect(usableCpus(files({ '/sys/fs/cgroup/cpu.max': '150000 100000' }))).toBe(Math.min(parallelism, 2));
    expect(usableCpus(files({ '/sys/fs/cgroup/cpu.max': '10000 100000' }))).toBe(1);
    expect(usableCpus(files({ '/sys/fs/cgroup/cpu.max': '6400000 100000' }))).toBe(parallelism);
    expect(usableCpus(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '100000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }))).toBe(1);
  });
});
