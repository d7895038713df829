import { describe, expect, it } from 'vitest';
import { fixture, startCluster, type Cluster } from '../helpers/cluster.js';
import { parseResponses, RawClient } from '../helpers/raw-client.js';
import { get } from '../helpers/requests.js';
import type { StatusReport } from '../../src/shared/status-report.js';

interface Answer {
  pid: number;
  calls: number;
  url: string;
}

/**
 * Two workers, so "served by the same pid" says something. Parking is off: a
 * keep-alive connection stays in its worker, and a different pid on it could
 * only mean the worker died and the connection went elsewhere.
 */
async function startTwoWorkers(): Promise<{ cluster: Cluster; pidsAtStart: number[] }> {
  const cluster = await startCluster(fixture('limits-app.mjs'), ['--workers', '2', '--park-after', '0']);
  return { cluster, pidsAtStart: workerPids(await cluster.status()) };
}

function workerPids(status: StatusReport): number[] {
  return status.workers.map((w) => w.pid ?? -1).sort((a, b) => a - b);
}

/** The pool is exactly as it started: same workers, all ready, nothing restarted. */
async function expectPoolUnchanged(cluster: Cluster, pidsAtStart: readonly number[]): Promise<void> {
  const status = await cluster.status();
  expect(workerPids(status)).toEqual(pidsAtStart);
  expect(status.workers.map((w) => w.state)).toEqual(['ready', 'ready']);
  expect(status.restarts).toBe(0);
}

describe('a request handler that fails answers 500 and the worker keeps serving', () => {
  it.each([
    ['throws synchronously', '/throw'],
    ['returns a rejected promise', '/reject'],
  ])('handler %s: 500, then the next request on the same keep-alive connection is served by the same worker', async (_what, path) => {
    const { cluster, pidsAtStart } = await startTwoWorkers();
    const client = await RawClient.connect(cluster.port);
    try {
      await client.write(get('/first'));
      const [first] = await client.responses(1);
      expect(first?.status).toBe(200);
      const { pid } = JSON.parse(first!.body) as Answer;
      expect(pidsAtStart).toContain(pid);

      await client.write(get(path));
      const [, failed] = await client.responses(2);
      expect(failed?.status).toBe(500);
      expect(failed?.headers.connection).not.toBe('close');

      await client.write(get('/next'));
      const [, , next] = await client.responses(3);
      expect(next?.status).toBe(200);
      expect(JSON.parse(next!.body)).toMatchObject({ pid, url: '/next' });
      expect(client.closed).toBe(false);
    } finally {
      client.close();
    }
    await expectPoolUnchanged(cluster, pidsAtStart);
  });

  it('handler throws after the headers were sent: that connection is closed, the worker keeps serving', async () => {
    const { cluster, pidsAtStart } = await startTwoWorkers();
    const client = await RawClient.connect(cluster.port);
    try {
      await client.write(get('/throw-late'));
      await client.closedByServer();
      // A 500 can no longer be sent, and the 200 can never be completed. Whether
      // the partial 200 reaches the client first depends on Node's corking, so
      // only "no complete response, and never a 500" is asserted.
      expect(parseResponses(Buffer.from(client.text, 'latin1'))).toEqual([]);
      expect(client.text).not.toMatch(/^HTTP\/1\.1 500 /);
    } finally {
      client.close();
    }
    const after = await RawClient.connect(cluster.port);
    try {
      await after.write(get('/after'));
      const [res] = await after.responses(1);
      expect(res?.status).toBe(200);
      expect(pidsAtStart).toContain((JSON.parse(res!.body) as Answer).pid);
    } finally {
      after.close();
    }
    await expectPoolUnchanged(cluster, pidsAtStart);
  });
});
