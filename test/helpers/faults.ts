import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { expect, onTestFinished } from 'vitest';
import type { StatusReport } from '../../src/shared/status-report.js';
import { alive, type Cluster } from './cluster.js';
import { parsePrometheus } from './prometheus.js';

/**
 * Helpers for fault-injection tests: file descriptor limits of running
 * processes (`prlimit --pid`, Linux), descriptor counts from /proc, and the
 * cluster's pids.
 */

/**
 * Sets a running process's soft limit on open files, as `ulimit -Sn` would
 * have at its start. The hard limit is left alone: lowering it cannot be
 * undone without CAP_SYS_RESOURCE, and tests raise the soft limit again.
 */
export function setFileLimit(pid: number, limit: number): void {
  execFileSync('prlimit', ['--pid', String(pid), `--nofile=${limit}:`]);
}

/** Descriptors a process has open now (its entries in /proc/<pid>/fd); null if it has gone. */
export function openDescriptors(pid: number): number | null {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/**
 * The lowest descriptor number a process does not use: the next one it would
 * get. A soft limit at this number makes every new descriptor fail (EMFILE),
 * whatever gaps there are above it.
 */
export function lowestFreeDescriptor(pid: number): number {
  const used = new Set(fs.readdirSync(`/proc/${pid}/fd`).map(Number));
  let fd = 0;
  while (used.has(fd)) fd++;
  return fd;
}

/** The master's, the monitor's and every worker's pid. */
export function clusterPids(status: StatusReport): { master: number; monitor: number; workers: number[] } {
  const workers = status.workers.map((w) => w.pid);
  expect(workers.every((p) => p !== null)).toBe(true);
  expect(status.monitor.pid).not.toBeNull();
  return { master: status.pid, monitor: status.monitor.pid!, workers: workers as number[] };
}

/** The cluster's Prometheus samples, by series. */
export async function scrape(cluster: Cluster): Promise<Map<string, number>> {
  const res = await fetch(`${cluster.adminUrl}/metrics`);
  expect(res.status).toBe(200);
  return parsePrometheus(await res.text());
}

/** One GET on its own connection; resolves with the status and body, rejects if the connection fails. */
export function getOnce(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/**
 * SIGSTOPs a process; when the test ends, one still there is resumed and
 * killed (a stopped process never sees its IPC channel close, so it would
 * outlive its master).
 */
export function freeze(pid: number): void {
  process.kill(pid, 'SIGSTOP');
  onTestFinished(() => {
    if (!alive(pid)) return;
    process.kill(pid, 'SIGCONT');
    process.kill(pid, 'SIGKILL');
  });
}

/** Kills, when the test ends, any of `pids` still there (children the harness does not reach: it kills masters). */
export function killLeftovers(pids: () => readonly number[]): void {
  onTestFinished(() => {
    for (const pid of pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}
