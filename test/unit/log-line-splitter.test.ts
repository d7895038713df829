import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/logs/line-splitter.js';

const splitter = (max?: number) => {
  const lines: string[] = [];
  return { lines, s: new LineSplitter((l) => lines.push(l), max) };
};

describe('LineSplitter', () => {
  it('splits a chunk holding several lines', () => {
    const { lines, s } = splitter();
    s.push(Buffer.from('one\ntwo\nthree\n'));
    expect(lines).toEqual(['one', 'two', 'three']);
  });

  it('holds a partial line until its newline arrives, over several chunks', () => {
    const { lines, s } = splitter();
    s.push(Buffer.from('ab'));
    s.push(Buffer.from('c'));
    expect(lines).toEqual([]);
    s.push(Buffer.from('d\ne'));
    expect(lines).toEqual(['abcd']);
    s.push(Buffer.from('f\n'));
    expect(lines).toEqual(['abcd', 'ef']);
  });

  it('joins a UTF-8 character cut between two chunks', () => {
    const { lines, s } = splitter();
    const bytes = Buffer.from('h\u00e9llo \u{1f680}\n');
    for (let i = 0; i < bytes.length; i++) s.push(bytes.subarray(i, i + 1));
    expect(lines).toEqual(['h\u00e9llo \u{1f680}']);
  });

  it('treats \\r\\n as \\n and keeps empty lines', () => {
    const { lines, s } = splitter();
    s.push(Buffer.from('a\r\n\r\nb\n\n'));
    expect(lines).toEqual(['a', '', 'b', '']);
  });

  it('sends the last line without a newline when the stream ends, and nothing when there is none', () => {
    const { lines, s } = splitter();
    s.push(Buffer.from('done\nleft'));
    s.end();
    expect(lines).toEqual(['done', 'left']);
    const other = splitter();
    other.s.push(Buffer.from('x\n'));
    other.s.end();
    expect(other.lines).toEqual(['x']);
  });

  it('cuts a line longer than the limit, so a child that never writes a newline cannot grow the master', () => {
    const { lines, s } = splitter(4);
    s.push(Buffer.from('abcdefghij'));
    expect(lines).toEqual(['abcd', 'efgh']);
    s.push(Buffer.from('\n'));
    expect(lines).toEqual(['abcd', 'efgh', 'ij']);
    s.push(Buffer.from('0123456789\n'));
    expect(lines.slice(3)).toEqual(['0123', '4567', '89']);
  });

  it('never cuts an emoji (a surrogate pair) in two', () => {
    const { lines, s } = splitter(4);
    s.push(Buffer.from('abc\u{1f680}def\n'));
    expect(lines).toEqual(['abc', '\u{1f680}de', 'f']);
    expect(lines.join('')).toBe('abc\u{1f680}def');
  });
});
