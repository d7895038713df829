import net, { type AddressInfo } from 'node:net';
import pino from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { HandleOutcome } from '../../src/shared/channel.js';
import { QUEUE_SWEEP_MS } from '../../src/shared/defaults.js';
import { takeHandle, type NativeHandle } from '../../src/shared/node-internals/handles.js';
import { Dispatcher, sweepInterval, type DispatcherOptions } from '../../src/master/dispatcher.js';
import type { WorkerLink } from '../../src/master/worker-link.js';
import { RawClient } from '../helpers/raw-client.js';
import { get, head } from '../helpers/requests.js';

// The queue's time bound (--queue-timeout) on real loopback sockets: what a
// client gets is the master's own 503 (reject.ts). Workers are stand-ins that
// record what they were sent; no process is started.

/** A server-side handle, not reading (as the master holds one), and the client at the other end. */
async function connection(): Promise<{ handle: NativeHandle; client: RawClient }> {
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => void server.close());
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = await RawClient.connect((server.address() as AddressInfo).port);
  onTestFinished(() => client.close());
  const handle = takeHandle(await accepted);
  if (!handle) throw new Error('no handle');
  return { handle, client };
}

/** A stand-in worker: `ready` decides whether the scheduler may pick it; what it is sent is kept and taken. */
function fakeWorker(ready: boolean): WorkerLink & { sent: number[] } {
  const sent: number[] = [];
  const worker = {
    id: 1, pid: 1, ready, busy: false, active: 0, generation: 1, sent,
    serve: ({ id }: { id: number }): Promise<HandleOutcome> => {
      sent.push(id);
      return Promise.resolve('taken');
    },
  };
  return worker as unknown as WorkerLink & { sent: number[] };
}

function dispatcher(queueTimeout: number, workers: readonly WorkerLink[] = []): Dispatcher {
  const options: DispatcherOptions = { queueSize: 10, queueTimeout, workerConnections: 10, workers: () => workers, admitting: () => true };
  const d = new Dispatcher(options, pino({ level: 'silent' }));
  onTestFinished(() => d.closeAll());
  return d;
}

/** Resolves once the client's socket has closed, with any error it saw on the way (a reset would be one). */
function closeOf(client: RawClient): Promise<Error | undefined> {
  let error: Error | undefined;
  client.socket.on('error', (e) => (error = e));
  return client.closedByServer().then(() => error);
}

describe('Dispatcher: --queue-timeout', () => {
  it('answers a connection that waited past the bound 503 with Retry-After, counts it, and closes cleanly', async () => {
    const d = dispatcher(50);
    const { handle, client } = await connection();
    const closed = closeOf(client);
    await client.write(get('/late'));
    d.enqueue({ id: 1, handle, since: Date.now() }, 'new');
    expect(d.queue.length).toBe(1); // no worker: it waits

    const [res] = await client.responses(1);
    expect(res).toMatchObject({ status: 503, headers: { 'retry-after': '1', connection: 'close' } });
    expect(await closed).toBeUndefined();
    expect(d.counters).toMatchObject({ timedOut: 1, rejected: 0, dispatched: 0 });
    expect(d.queue.length).toBe(0);
  });

  it('a woken connection (its request read by the monitor) gets the 503 as its answer; the rest of its body is read and dropped, not reset', async () => {
    const d = dispatcher(50);
    const { handle, client } = await connection();
    const closed = closeOf(client);
    // The monitor read the head; the rest of the body is still to come. 8 MB is more than the
    // kernel buffers while nobody reads, so the write completes only if the master reads and drops it:
    // closing with bytes unread sends a reset, which can destroy the 503 before the client reads it.
    const start = head('POST', '/upload', ['Content-Length: 8388608']);
    d.enqueue({ id: 1, handle, head: Buffer.from(start).toString('base64'), since: Date.now() }, 'woken');
    await client.write(Buffer.alloc(8 * 1024 * 1024, 'x'));
    const [res] = await client.responses(1);
    expect(res?.status).toBe(503);
    client.socket.end();
    expect(await closed).toBeUndefined();
    expect(d.counters.timedOut).toBe(1);
  });

  it('never dispatches a connection already past its bound: a worker with room gets the next one instead', async () => {
    const worker = fakeWorker(true);
    const d = dispatcher(1000, [worker]);
    const stale = await connection();
    const fresh = await connection();
    // Entered the queue 5 s ago (it waited while no worker had room, then one freed up).
    d.queue.push({ id: 1, handle: stale.handle, since: Date.now() - 5000 });
    d.enqueue({ id: 2, handle: fresh.handle, since: Date.now() }, 'new');
    expect((await stale.client.responses(1))[0]?.status).toBe(503);
    expect(worker.sent).toEqual([2]);
    expect(d.counters).toMatchObject({ timedOut: 1, rejected: 0 });
  });

  it('with --queue-timeout 0 nothing is timed out: a connection however old is served', async () => {
    const worker = fakeWorker(true);
    const d = dispatcher(0, [worker]);
    const { handle } = await connection();
    d.queue.push({ id: 7, handle, since: Date.now() - 3_600_000 });
    d.pump();
    expect(worker.sent).toEqual([7]);
    expect(d.counters.timedOut).toBe(0);
  });

  it('whenEmpty fires once the last waiting connection has timed out (a graceful stop does not wait for a worker)', async () => {
    const d = dispatcher(30, [fakeWorker(false)]);
    const { handle } = await connection();
    d.enqueue({ id: 1, handle, since: Date.now() }, 'woken');
    await new Promise<void>((resolve) => d.whenEmpty(resolve));
    expect(d.counters.timedOut).toBe(1);
  });

  it('sweeps at a tenth of the bound, between 10 ms and QUEUE_SWEEP_MS', () => {
    expect(sweepInterval(2000)).toBe(QUEUE_SWEEP_MS);
    expect(sweepInterval(300)).toBe(30);
    expect(sweepInterval(20)).toBe(10);
  });
});
