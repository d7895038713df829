import { describe, expect, it } from 'vitest';
import { ACCEPT_LIMIT_HEADROOM, ACCEPT_LIMIT_SLACK, acceptLimit, pickVictims } from '../../src/master/scheduling.js';

const pool = (...active: number[]) => active.map((a) => ({ active: a }));

describe('pickVictims', () => {
  it('retires the workers with the fewest connections first', () => {
    expect(pickVictims(pool(5, 1, 3), 1)).toEqual([1]);
    expect(pickVictims(pool(5, 1, 3), 2)).toEqual([1, 2]);
  });

  it('on a tie, retires the newest (last) worker', () => {
    expect(pickVictims(pool(2, 2, 2), 1)).toEqual([2]);
    expect(pickVictims(pool(0, 4, 0), 2)).toEqual([2, 0]);
  });

  it('retires the worker in slot 0 last, whatever it holds', () => {
    const slotted = (...active: number[]) => active.map((a, slot) => ({ active: a, slot }));
    expect(pickVictims(slotted(0, 4, 5), 1)).toEqual([1]);
    expect(pickVictims(slotted(0, 4, 5), 2)).toEqual([1, 2]);
    expect(pickVictims(slotted(0, 4, 5), 3)).toEqual([1, 2, 0]);
    expect(pickVictims([{ active: 3, slot: 1 }, { active: 0, slot: 0 }], 1)).toEqual([0]);
  });

  it('returns no more than the pool holds, and nothing for a count of zero or less', () => {
    expect(pickVictims(pool(1, 2), 5)).toEqual([0, 1]);
    expect(pickVictims(pool(1, 2), 0)).toEqual([]);
    expect(pickVictims(pool(1, 2), -1)).toEqual([]);
    expect(pickVictims([], 1)).toEqual([]);
  });
});

describe('acceptLimit', () => {
  it('lets one worker take everything up to the cap', () => {
    expect(acceptLimit([7], 100)).toBe(100);
    expect(acceptLimit([], 100)).toBe(100);
  });

  it('is the fair share with slack plus the headroom, at most the cap', () => {
    expect(acceptLimit([0, 0, 0, 0], 1000)).toBe(ACCEPT_LIMIT_HEADROOM);
    expect(acceptLimit([20, 10, 10, 10], 1000)).toBe(Math.ceil(12.5 * ACCEPT_LIMIT_SLACK) + ACCEPT_LIMIT_HEADROOM);
    expect(acceptLimit([500, 500], 300)).toBe(300);
  });
});
