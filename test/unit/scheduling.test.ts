import { describe, expect, it } from 'vitest';
import { pickWorker, type WorkerSnapshot } from '../../src/master/scheduling.js';

const w = (active: number, over: Partial<WorkerSnapshot> = {}): WorkerSnapshot => ({ ready: true, busy: false, active, generation: 1, ...over });

describe('pickWorker', () => {
  it('picks the least loaded ready worker', () => {
    expect(pickWorker([w(3), w(1), w(2)], 100)).toBe(1);
  });

  it('skips workers that are not ready, have a handle in flight, or are at the cap', () => {
    expect(pickWorker([w(0, { ready: false }), w(0, { busy: true }), w(5), w(4)], 5)).toBe(3);
  });

  it('returns -1 when nobody can take a connection', () => {
    expect(pickWorker([w(0, { busy: true }), w(9)], 9)).toBe(-1);
    expect(pickWorker([], 9)).toBe(-1);
  });

  it('breaks ties starting at the given turn, so equal workers alternate', () => {
    const pool = [w(0), w(0), w(0)];
    expect(pickWorker(pool, 10, 0)).toBe(0);
    expect(pickWorker(pool, 10, 1)).toBe(1);
    expect(pickWorker(pool, 10, 2)).toBe(2);
    expect(pickWorker(pool, 10, 3)).toBe(0);
  });

  it('prefers the newest generation during a reload, even if it holds more connections', () => {
    expect(pickWorker([w(0), w(5, { generation: 2 }), w(1)], 10)).toBe(1);
    expect(pickWorker([w(0), w(10, { generation: 2 })], 10)).toBe(0); // a full new worker does not block the old ones
  });
});
