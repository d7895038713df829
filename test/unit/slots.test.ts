import { describe, expect, it } from 'vitest';
import { pickSlot } from '../../src/master/slots.js';

describe('pickSlot', () => {
  it('takes the lowest slot no live worker holds', () => {
    expect(pickSlot([])).toBe(0);
    expect(pickSlot([0, 1, 2])).toBe(3);
    expect(pickSlot([2, 0, 3])).toBe(1);
  });

  it('the replacement of a dead worker takes its slot when it is free', () => {
    expect(pickSlot([0, 2], 1)).toBe(1);
    expect(pickSlot([1, 2], 3)).toBe(3);
  });

  it('a slot taken meanwhile (a scale-up during a restart backoff) gives the lowest free one instead', () => {
    expect(pickSlot([0, 1, 2], 1)).toBe(3);
    expect(pickSlot([1, 2], 1)).toBe(0);
  });
});
