import { describe, expect, it } from 'vitest';
import { pickVictims } from '../../src/master/scheduling.js';

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

  it('returns no more than the pool holds, and nothing for a count of zero or less', () => {
    expect(pickVictims(pool(1, 2), 5)).toEqual([0, 1]);
    expect(pickVictims(pool(1, 2), 0)).toEqual([]);
    expect(pickVictims(pool(1, 2), -1)).toEqual([]);
    expect(pickVictims([], 1)).toEqual([]);
  });
});
