import { commandLine, rssBytes, treeRssBytes } from './procfs.js';
import type { Server } from './servers.js';

/** Reads a few /proc files per process: negligible next to the load generator. */
export const RSS_SAMPLE_MS = 250;

/** The peaks a run's sampling saw. */
export interface RssPeaks {
  /** Highest summed RSS of the whole process tree. */
  readonly tree: number;
  /** Highest summed RSS of the workers (the processes running the app). */
  readonly workersSum: number;
  /** Each worker's highest RSS, averaged over the workers; null without workers (a single process). */
  readonly workerMean: number | null;
}

/**
 * The worker processes of a contender's tree: rocket-cluster's run
 * dist/worker/main.js (not the monitor); node:cluster's and PM2's are the
 * primary's children; a single process has none.
 */
export function workerPids(s: Server, pids: readonly number[]): number[] {
  if (s.kind === 'rocket-cluster') return pids.filter((p) => commandLine(p)?.includes('/dist/worker/main.js') === true);
  if (s.kind === 'node:cluster') return pids.filter((p) => p !== s.masterPid);
  return [];
}

export function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Samples RSS every RSS_SAMPLE_MS until stop(), which takes a last sample and returns the peaks. */
export function sampleRss(pids: readonly number[], workers: readonly number[]): { stop(): RssPeaks } {
  let tree = 0;
  let workersSum = 0;
  const workerPeaks = workers.map(() => 0);
  const sample = (): void => {
    tree = Math.max(tree, treeRssBytes(pids));
    workersSum = Math.max(workersSum, treeRssBytes(workers));
    workers.forEach((p, i) => (workerPeaks[i] = Math.max(workerPeaks[i] ?? 0, rssBytes(p) ?? 0)));
  };
  sample();
  let timer: NodeJS.Timeout | null = setInterval(sample, RSS_SAMPLE_MS);
  return {
    stop() {
      if (timer !== null) {
        clearInterval(timer);
        timer = null;
        sample();
      }
      return { tree, workersSum, workerMean: mean(workerPeaks) };
    },
  };
}
