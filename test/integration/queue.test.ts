import { describe, expect, it } from 'vitest';
import { fixture, startCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';
import { get, head } from '../helpers/requests.js';

interface Echo {
  pid: number;
  url: string;
  length: number;
}

describe('the bounded queue', () => {
  it.each(['master', 'workers'] as const)('--accept %s: holds a connection while every worker is full, answers 503 + Retry-After when the queue is full, then serves the queued one', async (accept) => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '1', '--worker-connections', '1', '--queue-size', '1', '--accept', accept]);
    const clients: RawClient[] = [];
    try {
      // The one worker slot is held by a request whose body the test sends later:
      // the echo app reads the body before answering, so no timer decides when it ends.
      const holder = await RawClient.connect(cluster.port);
      clients.push(holder);
      await holder.write(head('POST', '/held', ['Content-Length: 4', 'Connection: close']));
      // Once the master has counted the handoff (or the worker's own accept), its count of the worker's connections is exact (see the regression test below).
      const taken = async () => ((s) => (accept === 'master' ? s.connections.dispatched : s.connections.acceptedByWorkers))(await cluster.status());
      await expect.poll(taken, { timeout: 10_000, interval: 25 }).toBe(1);
      await expect.poll(async () => (await cluster.status()).workers[0]?.connections, { timeout: 10_000, interval: 25 }).toBe(1);

      // The second connection waits in the queue, its request already sent.
      const queued = await RawClient.connect(cluster.port);
      clients.push(queued);
      await queued.write(get('/queued'));
      await expect.poll(async () => (await cluster.status()).queue.depth, { timeout: 10_000, interval: 25 }).toBe(1);

      // The third finds the queue full.
      const refused = await RawClient.connect(cluster.port);
      clients.push(refused);
      await refused.write(get('/refused'));
      const [busy] = await refused.responses(1);
      expect(busy?.status).toBe(503);
      expect(busy?.headers['retry-after']).toBe('1');
      expect(busy?.headers.connection).toBe('close');
      await refused.closedByServer();

      let status = await cluster.status();
      expect(status.queue.rejected).toBe(1);
      expect(status.queue.depth).toBe(1);
      expect(queued.text).toBe(''); // still waiting, not answered

      // Finishing the held request frees the slot: the queued connection is served.
      await holder.write('done');
      const [held] = await holder.responses(1);
      expect(held?.status).toBe(200);
      expect(JSON.parse(held!.body)).toMatchObject({ url: '/held', length: 4 });
      await holder.closedByServer();

      const [served] = await queued.responses(1);
      expect(served?.status).toBe(200);
      expect((JSON.parse(served!.body) as Echo).url).toBe('/queued');

      status = await cluster.status();
      expect(status.queue.depth).toBe(0);
      expect(status.queue.rejected).toBe(1);
      // With --accept workers the worker accepted all three and, at its cap, handed two to the queue.
      const counts = accept === 'master' ? { accepted: 3, acceptedByWorkers: 0, surplus: 0, dispatched: 2 } : { accepted: 0, acceptedByWorkers: 3, surplus: 2, dispatched: 1 };
      expect(status.connections).toMatchObject(counts);
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('an idle keep-alive connection does not hold a full worker: once it is parked, the queued connection is served, and it comes back itself', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '1', '--worker-connections', '1', '--queue-size', '1', '--park-when', 'idle', '--park-after', '100', '--accept', 'master']);
    const clients: RawClient[] = [];
    try {
      const first = await RawClient.connect(cluster.port);
      clients.push(first);
      await first.write(get('/first'));
      await first.responses(1);

      // Sent at once; it may wait in the queue until `first` is parked, never longer.
      const second = await RawClient.connect(cluster.port);
      clients.push(second);
      await second.write(get('/second'));
      const [res] = await second.responses(1);
      expect((JSON.parse(res!.body) as Echo).url).toBe('/second');
      expect(first.closed).toBe(false);

      // Now `first` wakes in the monitor and waits until `second` is parked in turn.
      await first.write(get('/again'));
      const [, again] = await first.responses(2);
      expect((JSON.parse(again!.body) as Echo).url).toBe('/again');
      const status = await cluster.status();
      expect(status.queue.rejected).toBe(0);
      expect(status.connections.wakes).toBe(1); // `first`, once
      // `first` parked, then `second`; `first` may park again once idle after /again, hence not exactly 2.
      expect(status.connections.parks).toBeGreaterThanOrEqual(2);
    } finally {
      for (const c of clients) c.close();
    }
  });

  // Regression (fixed in a53af63): when a worker acknowledged a handle, the
  // master added 1 to its connection count in a promise continuation. The
  // worker posted its own count right after the ack; when both arrived in one
  // IPC read, Node emitted both messages (nextTicks) before the continuation
  // ran, so the +1 landed on top of the true count and stayed until the
  // worker's next report (its heartbeat, up to 0.5 s later). Now the master
  // counts what it sent against what the worker says it received. The worker
  // looked full meanwhile, so the next connection waited for that report: the
  // counts are read once, right after each handoff, never polled, as a poll
  // would wait out the phantom connection.
  it('a worker under its --worker-connections cap takes the next connection, and /status counts each connection once', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '1', '--worker-connections', '2', '--park-after', '0', '--accept', 'master']);
    const clients: RawClient[] = [];
    try {
      // The first connection holds one of the two slots with a request whose body is still to come.
      const held = await RawClient.connect(cluster.port);
      clients.push(held);
      await held.write(head('POST', '/held', ['Content-Length: 4']));
      await expect.poll(async () => (await cluster.status()).connections.dispatched, { timeout: 10_000, interval: 25 }).toBe(1);
      expect((await cluster.status()).workers[0]?.connections).toBe(1);

      // The second slot is free: the next connection must be served now, not after the first ends.
      const next = await RawClient.connect(cluster.port);
      clients.push(next);
      await next.write(get('/next'));
      const [res] = await next.responses(1);
      expect(res?.status).toBe(200);
      expect(held.text).toBe('');
      const status = await cluster.status();
      expect(status.connections.dispatched).toBe(2);
      expect(status.workers[0]?.connections).toBe(2);

      await held.write('done');
      const [done] = await held.responses(1);
      expect(done?.status).toBe(200);
    } finally {
      for (const c of clients) c.close();
    }
  });
});
