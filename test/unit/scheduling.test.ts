import { describe, expect, it } from 'vitest';
import { SHED_COOLDOWN_MS, SHED_MIN, pickWorker, planShed, type ShedCandidate, type WorkerSnapshot } from '../../src/master/scheduling.js';

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

const c = (active: number, elu: number, over: Partial<ShedCandidate> = {}): ShedCandidate => ({ ready: true, canShed: true, active, elu, lastShedAt: -Infinity, ...over });

describe('planShed', () => {
  it('a saturated worker over its fair share sheds the excess when another worker has room', () => {
    expect(planShed([c(20, 0.97), c(0, 0)], 0.9, 0)).toEqual([{ index: 0, count: 10 }]);
    expect(planShed([c(15, 0.95), c(5, 0.6)], 0.9, 0)).toEqual([{ index: 0, count: 5 }]);
  });

  it('sheds nothing when no worker has room, the busy one is not saturated, or the excess is too small', () => {
    expect(planShed([c(12, 0.97), c(8, 0.95)], 0.9, 0)).toEqual([]);
    expect(planShed([c(20, 0.8), c(0, 0)], 0.9, 0)).toEqual([]);
    expect(planShed([c(10 + SHED_MIN - 1, 0.97), c(10 - SHED_MIN + 1, 0.2)], 0.9, 0)).toEqual([]);
  });

  it('needs two ready workers, and skips one that cannot hand connections back or was asked within the cooldown', () => {
    expect(planShed([c(20, 0.97)], 0.9, 0)).toEqual([]);
    expect(planShed([c(20, 0.97), c(0, 0, { ready: false })], 0.9, 0)).toEqual([]);
    expect(planShed([c(20, 0.97, { canShed: false }), c(0, 0)], 0.9, 0)).toEqual([]);
    expect(planShed([c(20, 0.97, { lastShedAt: 1000 }), c(0, 0)], 0.9, 1000 + SHED_COOLDOWN_MS - 1)).toEqual([]);
    expect(planShed([c(20, 0.97, { lastShedAt: 1000 }), c(0, 0)], 0.9, 1000 + SHED_COOLDOWN_MS)).toEqual([{ index: 0, count: 10 }]);
  });

  it('counts a worker holding nothing as having room, whatever its ELU (a new worker reports its start-up)', () => {
    expect(planShed([c(20, 0.97), c(0, 0.99)], 0.9, 0)).toEqual([{ index: 0, count: 10 }]);
    expect(planShed([c(20, 0.97), c(1, 0.99)], 0.9, 0)).toEqual([]);
  });

  it('counts the fair share over ready workers only', () => {
    expect(planShed([c(30, 0.97), c(0, 0), c(50, 0, { ready: false })], 0.9, 0)).toEqual([{ index: 0, count: 15 }]);
  });
});

