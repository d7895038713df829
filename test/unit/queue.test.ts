import { describe, expect, it } from 'vitest';
import { ConnectionQueue, type PendingConnection } from '../../src/master/queue.js';
import type { NativeHandle } from '../../src/shared/node-internals/handles.js';

const item = (id: number, since = 0): PendingConnection => ({ id, handle: {} as NativeHandle, since });

describe('ConnectionQueue', () => {
  it('is FIFO and reports full at its capacity', () => {
    const q = new ConnectionQueue(3);
    q.push(item(1));
    q.push(item(2));
    expect(q.full).toBe(false);
    q.push(item(3));
    expect(q.full).toBe(true);
    expect([q.shift()?.id, q.shift()?.id, q.shift()?.id, q.shift()]).toEqual([1, 2, 3, undefined]);
  });

  it('puts a refused connection back at the front', () => {
    const q = new ConnectionQueue(10);
    q.push(item(1));
    q.push(item(2));
    const first = q.shift()!;
    q.pushFront(first);
    expect(q.shift()?.id).toBe(1);
    q.pushFront(item(0));
    expect(q.length).toBe(2);
    expect(q.shift()?.id).toBe(0);
  });

  it('keeps order across compaction of a long-running queue', () => {
    const q = new ConnectionQueue(5000);
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 300; i++) q.push(item(next++));
      for (let i = 0; i < 290; i++) expect(q.shift()?.id).toBe(expected++);
    }
    expect(q.length).toBe(next - expected);
  });

  it('reports the age of the oldest waiting connection and drains everything', () => {
    const q = new ConnectionQueue(5);
    expect(q.oldestWait(100)).toBe(0);
    q.push(item(1, 40));
    q.push(item(2, 90));
    expect(q.oldestWait(100)).toBe(60);
    expect(q.drain().map((i) => i.id)).toEqual([1, 2]);
    expect(q.length).toBe(0);
  });
});

describe('ConnectionQueue: ages and expiry (--queue-timeout)', () => {
  const ids = (q: ConnectionQueue) => q.drain().map((i) => i.id);

  it('expires the arrivals that entered before the cutoff and keeps the rest in order', () => {
    const q = new ConnectionQueue(10);
    for (const [id, since] of [[1, 10], [2, 20], [3, 30], [4, 40]] as const) q.push(item(id, since));
    expect(q.expire(10)).toEqual([]); // entered at the cutoff: not before it
    expect(q.expire(31).map((i) => i.id)).toEqual([1, 2, 3]);
    expect(q.length).toBe(1);
    expect(q.expire(31)).toEqual([]);
    expect(ids(q)).toEqual([4]);
  });

  it('finds a put-back connection wherever its age puts it, and keeps the put-back ones that stay first in line', () => {
    const q = new ConnectionQueue(10);
    q.push(item(1, 100));
    q.push(item(2, 200));
    q.push(item(3, 300));
    // Two connections a worker did not take, back at the front: one older than every arrival, one newer.
    q.pushFront(item(10, 50));
    q.pushFront(item(11, 250));
    expect(q.oldestWait(1000)).toBe(950);
    expect(q.expire(150).map((i) => i.id).sort()).toEqual([1, 10]);
    expect(q.oldestWait(1000)).toBe(800); // id 2
    expect(q.shift()?.id).toBe(11);
    expect(ids(q)).toEqual([2, 3]);
  });

  it('expiring only put-back connections, or only arrivals, leaves the queue usable', () => {
    const q = new ConnectionQueue(10);
    q.push(item(1, 500));
    q.pushFront(item(2, 100));
    q.pushFront(item(3, 600));
    expect(q.expire(200).map((i) => i.id)).toEqual([2]);
    expect(q.shift()?.id).toBe(3);
    q.pushFront(item(4, 50));
    expect(q.expire(501).map((i) => i.id)).toEqual([4, 1]);
    expect(q.length).toBe(0);
    expect(q.oldestWait(700)).toBe(0);
    q.push(item(5, 700));
    expect(q.shift()?.id).toBe(5);
  });

  it('matches a plain array model over a long random run of push, pushFront, shift and expire', () => {
    modelRun(12345, false);
  });
  it('take removes the chosen connections in order, stops at the first stop, and keeps the put-back prefix', () => {
    const q = new ConnectionQueue(10);
    for (const id of [3, 4, 5, 6]) q.push(item(id, id * 100));
    q.pushFront(item(2, 900));
    q.pushFront(item(1, 950));
    const seen: number[] = [];
    const taken = q.take((i) => {
      seen.push(i.id);
      if (i.id === 5) return 'stop';
      return i.id % 2 === 0 ? 'take' : 'keep';
    });
    expect(taken.map((i) => i.id)).toEqual([2, 4]);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    // The put-back connection that stayed (1) is still found by its age; the arrivals stay sorted.
    expect(q.oldestWait(1000)).toBe(700); // id 3
    expect(q.expire(960).map((i) => i.id)).toEqual([1, 3, 5, 6]);
    expect(q.length).toBe(0);
    expect(q.take(() => 'take')).toEqual([]);
  });

  it('matches a plain array model over a long random run with take among push, pushFront, shift and expire', () => {
    modelRun(777, true);
  });
});

/**
 * A long seeded random run of push, pushFront, shift and expire (and, with
 * `withTake`, take, as a sticky pump calls it), each step checked against a
 * plain array.
 */
function modelRun(seed: number, withTake: boolean): void {
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const q = new ConnectionQueue(100_000);
  let model: PendingConnection[] = [];
  let now = 0;
  let next = 0;
  for (let step = 0; step < 20_000; step++) {
    now += Math.floor(random() * 3);
    const r = random();
    if (r < 0.45) {
      const it = item(next++, now);
      q.push(it);
      model.push(it);
    } else if (r < 0.55) {
      // Back from a worker: with a new age, or (to test any order) an older one.
      const it = item(next++, random() < 0.5 ? now : now - Math.floor(random() * 200));
      q.pushFront(it);
      model.unshift(it);
    } else if (r < (withTake ? 0.85 : 0.95)) {
      expect(q.shift()).toBe(model.shift());
    } else if (r < 0.95) {
      // Take every third id among the first `look` items (a sticky pump stops once no worker is free).
      const look = Math.floor(random() * 8);
      let seen = 0;
      const taken = q.take((i) => (seen++ >= look ? 'stop' : i.id % 3 === 0 ? 'take' : 'keep'));
      const expected = model.slice(0, look).filter((i) => i.id % 3 === 0);
      expect(taken).toEqual(expected);
      model = model.filter((i) => !expected.includes(i));
    } else {
      const cutoff = now - Math.floor(random() * 100);
      const expired = q.expire(cutoff);
      expect(new Set(expired)).toEqual(new Set(model.filter((i) => i.since < cutoff)));
      model = model.filter((i) => i.since >= cutoff);
    }
    expect(q.length).toBe(model.length);
    expect(q.oldestWait(now)).toBe(model.length === 0 ? 0 : now - Math.min(...model.map((i) => i.since)));
  }
  expect(q.drain()).toEqual(model);
}
