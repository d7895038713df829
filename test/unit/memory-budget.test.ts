import { describe, expect, it } from 'vitest';
import { holdEpisode, judgeMemory, memoryPressure, type MemorySnapshot } from '../../src/master/memory-budget.js';

const MB = 1024 * 1024;
const budget = { poolMemorySoft: 300, poolMemoryHard: 500 };
const at = (totalMb: number, more: Partial<MemorySnapshot> = {}): MemorySnapshot => ({ totalRss: totalMb * MB, live: 3, minWorkers: 1, settling: false, ...more });

describe('memoryPressure', () => {
  it('names the limit the total is above, the hard one first; none without a budget', () => {
    expect(memoryPressure(300 * MB, budget)).toBeNull(); // at a limit is within it
    expect(memoryPressure(300 * MB + 1, budget)).toBe('memory-soft');
    expect(memoryPressure(500 * MB + 1, budget)).toBe('memory-hard');
    expect(memoryPressure(10_000 * MB, {})).toBeNull();
    expect(memoryPressure(501 * MB, { poolMemoryHard: 500 })).toBe('memory-hard');
    expect(memoryPressure(301 * MB, { poolMemorySoft: 300 })).toBe('memory-soft');
  });
});

describe('judgeMemory', () => {
  it('above soft only holds growth: nothing retires', () => {
    expect(judgeMemory(at(400), budget)).toEqual({ pressure: 'memory-soft', retire: false, atMinimum: false });
  });

  it('above hard retires one worker while the pool is above --min-workers', () => {
    expect(judgeMemory(at(600), budget)).toEqual({ pressure: 'memory-hard', retire: true, atMinimum: false });
    expect(judgeMemory(at(600, { live: 2, minWorkers: 1 }), budget).retire).toBe(true);
  });

  it('never retires at or below --min-workers, and says so', () => {
    expect(judgeMemory(at(600, { live: 1, minWorkers: 1 }), budget)).toEqual({ pressure: 'memory-hard', retire: false, atMinimum: true });
    expect(judgeMemory(at(600, { live: 2, minWorkers: 3 }), budget)).toMatchObject({ retire: false, atMinimum: true });
  });

  it('retires nothing more while the last retirement settles (not exited, or no report since)', () => {
    expect(judgeMemory(at(600, { settling: true }), budget)).toEqual({ pressure: 'memory-hard', retire: false, atMinimum: false });
    expect(judgeMemory(at(600, { settling: true, live: 1 }), budget).atMinimum).toBe(false);
  });

  it('within budget, or with none, decides nothing', () => {
    expect(judgeMemory(at(100), budget)).toEqual({ pressure: null, retire: false, atMinimum: false });
    expect(judgeMemory(at(100_000), {})).toEqual({ pressure: null, retire: false, atMinimum: false });
  });
});

describe('holdEpisode', () => {
  it('announces the first growth held back, then stays quiet until the total is within budget', () => {
    let r = holdEpisode(null, 'memory-soft', false); // above, but nothing wanted to grow
    expect(r).toEqual({ episode: null, announce: false });
    r = holdEpisode(r.episode, 'memory-soft', true);
    expect(r).toEqual({ episode: 'memory-soft', announce: true });
    r = holdEpisode(r.episode, 'memory-soft', true); // the next tick: same episode
    expect(r).toEqual({ episode: 'memory-soft', announce: false });
    r = holdEpisode(r.episode, 'memory-hard', true); // wavering between the limits is one episode
    expect(r).toEqual({ episode: 'memory-soft', announce: false });
    r = holdEpisode(r.episode, 'memory-soft', false);
    expect(r.announce).toBe(false);
    r = holdEpisode(r.episode, null, false); // within budget: the episode ends
    expect(r).toEqual({ episode: null, announce: false });
    expect(holdEpisode(r.episode, 'memory-hard', true)).toEqual({ episode: 'memory-hard', announce: true });
  });

  it('ends the episode within budget, even while growth is wanted', () => {
    expect(holdEpisode('memory-hard', null, true)).toEqual({ episode: null, announce: false });
  });
});
