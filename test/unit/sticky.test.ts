import pino from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { HandleOutcome } from '../../src/shared/channel.js';
import type { NativeHandle } from '../../src/shared/node-internals/handles.js';
import { Dispatcher } from '../../src/master/dispatcher.js';
import { pickHeir, StickyTable } from '../../src/master/sticky.js';
import type { WorkerLink } from '../../src/master/worker-link.js';

// --sticky ip: the address → worker table and the heir choice (pure), and the
// dispatcher's use of them with stand-in workers and handles (no socket, no process).

describe('pickHeir', () => {
  const none = () => 0;
  it('prefers the newest generation, then the fewest connections, then the fewest bound addresses, then the first', () => {
    expect(pickHeir([], none)).toBeNull();
    expect(pickHeir([{ id: 1, generation: 1, active: 0 }, { id: 2, generation: 2, active: 9 }], none)).toBe(2);
    expect(pickHeir([{ id: 1, generation: 1, active: 5 }, { id: 2, generation: 1, active: 3 }], none)).toBe(2);
    expect(pickHeir([{ id: 1, generation: 1, active: 3 }, { id: 2, generation: 1, active: 3 }], (id) => (id === 1 ? 4 : 1))).toBe(2);
    expect(pickHeir([{ id: 1, generation: 1, active: 3 }, { id: 2, generation: 1, active: 3 }], none)).toBe(1);
  });
});

describe('StickyTable', () => {
  const w = (id: number, active = 0, generation = 1) => ({ id, active, generation });

  it('binds an address to a worker and keeps it there', () => {
    const t = new StickyTable();
    t.bind('10.0.0.1', 1);
    t.bind('10.0.0.2', 2);
    t.bind('10.0.0.1', 1);
    expect([t.workerOf('10.0.0.1'), t.workerOf('10.0.0.2'), t.workerOf('10.0.0.3')]).toEqual([1, 2, undefined]);
    expect([t.count(1), t.count(2), t.size]).toEqual([1, 1, 2]);
    expect(t.settle([w(1), w(2)])).toEqual([]); // both still ready: nothing moves
  });

  it('moves every address of a worker that left to one heir, not scattered', () => {
    const t = new StickyTable();
    for (let i = 0; i < 30; i++) t.bind(`10.0.0.${i}`, (i % 3) + 1); // 10 addresses on each of workers 1, 2, 3
    const moves = t.settle([w(1, 40), w(3, 10)]); // worker 2 left; 3 has fewer connections
    expect(moves).toEqual([{ from: 2, to: 3, addresses: 10 }]);
    for (let i = 1; i < 30; i += 3) expect(t.workerOf(`10.0.0.${i}`)).toBe(3);
    expect([t.count(1), t.count(2), t.count(3), t.moved]).toEqual([10, 0, 20, 10]);
  });

  it('keeps the addresses of a worker that left while no worker is ready, and moves them all to the first one ready', () => {
    const t = new StickyTable();
    t.bind('a', 1);
    t.bind('b', 1);
    expect(t.settle([])).toEqual([]);
    expect(t.workerOf('a')).toBe(1);
    expect(t.settle([w(4, 0, 1)])).toEqual([{ from: 1, to: 4, addresses: 2 }]);
    expect([t.workerOf('a'), t.workerOf('b')]).toEqual([4, 4]);
  });

  it('in a reload, an old worker’s addresses go to a new one, not to an old worker about to retire', () => {
    const t = new StickyTable();
    t.bind('a', 1);
    t.bind('b', 2);
    // Worker 1 retired once its replacement 4 (generation 2) was ready; 2 and 3 are still serving.
    expect(t.settle([w(2, 1), w(3, 0), w(4, 5, 2)])).toEqual([{ from: 1, to: 4, addresses: 1 }]);
  });

  it('forgets the address seen least recently past its bound', () => {
    const t = new StickyTable(2);
    t.bind('a', 1);
    t.bind('b', 2);
    t.bind('a', 1); // a is now the most recently seen
    t.bind('c', 3);
    expect([t.workerOf('a'), t.workerOf('b'), t.workerOf('c'), t.size]).toEqual([1, undefined, 3, 2]);
    expect([t.count(1), t.count(2), t.count(3)]).toEqual([1, 0, 1]);
  });
});

/** A stand-in worker whose busy, ready and active the test sets; what it is sent is kept, and it takes everything. */
interface FakeWorker {
  id: number;
  pid: number;
  ready: boolean;
  busy: boolean;
  active: number;
  generation: number;
  outOfDescriptors: boolean;
  sent: number[];
  serve(item: { id: number }): Promise<HandleOutcome>;
}

function fakeWorker(id: number): FakeWorker {
  const w: FakeWorker = {
    id, pid: id, ready: true, busy: false, active: 0, generation: 1, outOfDescriptors: false, sent: [],
    serve: ({ id: conn }) => {
      w.sent.push(conn);
      w.active++;
      return Promise.resolve('taken');
    },
  };
  return w;
}

describe('Dispatcher with --sticky ip', () => {
  const handle = { readStart: () => 0, readStop: () => 0, close: () => {} } satisfies NativeHandle;
  let next = 0;
  const conn = (client: string) => ({ id: ++next, handle, client, since: Date.now() });

  function setup(cap = 10) {
    const workers = [fakeWorker(1), fakeWorker(2), fakeWorker(3)];
    const d = new Dispatcher({ queueSize: 100, queueTimeout: 0, workerConnections: cap, workers: () => workers as unknown as WorkerLink[], admitting: () => true, sticky: true }, pino({ level: 'silent' }));
    onTestFinished(() => d.closeAll());
    return { d, workers, table: d.sticky as StickyTable };
  }

  it('sends every connection of an address to the worker its first went to; one whose worker is busy or full waits for it', async () => {
    const { d, workers, table } = setup(3);
    const [w1, w2, w3] = workers as [FakeWorker, FakeWorker, FakeWorker];
    d.enqueue(conn('a'), 'new');
    const first = table.workerOf('a');
    expect(first).toBeDefined();
    const home = workers.find((w) => w.id === first) as FakeWorker;
    for (const w of workers) w.active = home === w ? 1 : 0;
    home.busy = true; // a handle in flight
    const waiting = conn('a');
    d.enqueue(waiting, 'woken');
    d.enqueue(conn('b'), 'new'); // a new address goes to a free worker meanwhile
    expect(d.queue.length).toBe(1);
    expect(home.sent).not.toContain(waiting.id);
    home.busy = false;
    home.active = 3; // full: it still waits for its own worker
    d.pump();
    expect(d.queue.length).toBe(1);
    home.active = 2;
    d.pump();
    expect(d.queue.length).toBe(0);
    expect(home.sent).toContain(waiting.id);
    expect([w1, w2, w3].filter((w) => w !== home).flatMap((w) => w.sent)).toHaveLength(1); // only b's
    await Promise.resolve();
  });

  it('a connection waiting for its worker does not hold up those behind it for other workers', () => {
    const { d, workers, table } = setup();
    table.bind('a', 1);
    table.bind('b', 2);
    const [w1, w2] = workers as [FakeWorker, FakeWorker];
    w1.busy = true;
    const a = conn('a');
    const b = conn('b');
    d.enqueue(a, 'new');
    d.enqueue(b, 'new');
    expect(w2.sent).toEqual([b.id]);
    expect(d.queue.length).toBe(1);
  });

  it('when a worker leaves, all its addresses go to one other worker, and the others stay where they were', () => {
    const { d, workers, table } = setup();
    const [w1, w2, w3] = workers as [FakeWorker, FakeWorker, FakeWorker];
    for (const [i, client] of ['a', 'b', 'c', 'd', 'e', 'f'].entries()) table.bind(client, (i % 3) + 1); // a,d → 1; b,e → 2; c,f → 3
    w1.ready = false; // retiring, or exited
    w2.active = 5;
    const a = conn('a');
    const dd = conn('d');
    const b = conn('b');
    d.enqueue(a, 'woken');
    w3.busy = false;
    d.enqueue(dd, 'woken');
    d.enqueue(b, 'woken');
    expect(table.workerOf('a')).toBe(3);
    expect(table.workerOf('d')).toBe(3);
    expect(table.workerOf('b')).toBe(2);
    expect(w3.sent).toEqual([a.id, dd.id]);
    expect(w2.sent).toEqual([b.id]);
    expect(w1.sent).toEqual([]);
  });
});
