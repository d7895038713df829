import { describe, expect, it } from 'vitest';
import { LineRing } from '../../src/logs/ring.js';

describe('LineRing', () => {
  it('keeps the last lines up to its line limit, oldest first', () => {
    const ring = new LineRing(3, 1000);
    for (const l of ['a', 'b', 'c', 'd', 'e']) ring.push(l);
    expect(ring.tail(10)).toEqual(['c', 'd', 'e']);
    expect(ring.tail(2)).toEqual(['d', 'e']);
    expect(ring.tail(0)).toEqual([]);
    expect(ring.size).toBe(3);
  });

  it('drops the oldest lines to stay within its character limit', () => {
    const ring = new LineRing(100, 10);
    ring.push('aaaa');
    ring.push('bbbb');
    ring.push('cccc');
    expect(ring.tail(100)).toEqual(['bbbb', 'cccc']);
    ring.push('x'.repeat(20)); // longer than the limit alone: kept, alone
    expect(ring.tail(100)).toEqual(['x'.repeat(20)]);
  });

  it('stays in order across many wrap-arounds', () => {
    const ring = new LineRing(7, 1e6);
    for (let i = 0; i < 1000; i++) ring.push(String(i));
    expect(ring.tail(7)).toEqual(['993', '994', '995', '996', '997', '998', '999']);
  });
});
