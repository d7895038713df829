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
