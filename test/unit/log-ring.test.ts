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

describe('LineRing with blocks of lines', () => {
  it('tails across blocks and single lines, splitting a block only as far as asked', () => {
    const ring = new LineRing(100, 1e6);
    ring.push('a');
    ring.pushBlock('b\nc\nd', 3);
    ring.push('e');
    expect(ring.size).toBe(5);
    expect(ring.tail(2)).toEqual(['d', 'e']);
    expect(ring.tail(4)).toEqual(['b', 'c', 'd', 'e']);
    expect(ring.tail(99)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('keeps exactly its line limit by trimming the oldest block', () => {
    const ring = new LineRing(4, 1e6);
    ring.pushBlock('1\n2\n3', 3);
    ring.pushBlock('4\n5', 2);
    expect(ring.size).toBe(4);
    expect(ring.tail(10)).toEqual(['2', '3', '4', '5']);
  });

  it('drops whole old blocks to stay within its character limit', () => {
    const ring = new LineRing(100, 10);
    ring.pushBlock('aaa\nbbb', 2);
    ring.pushBlock('ccc\nddd', 2);
    expect(ring.tail(10)).toEqual(['ccc', 'ddd']);
  });
});
