import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tailFile } from '../../src/logs/file-tail.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-tail-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

describe('tailFile', () => {
  it('returns the last n lines of a file many chunks long, whole, in order', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(i % 97)}`);
    const p = file('big.log', `${lines.join('\n')}\n`);
    expect(fs.statSync(p).size).toBeGreaterThan(3 * 64 * 1024);
    expect(await tailFile(p, 3)).toEqual(lines.slice(-3));
    expect(await tailFile(p, 2500)).toEqual(lines.slice(-2500));
    expect(await tailFile(p, 10_000)).toEqual(lines);
  });

  it('keeps a multi-byte character whole across a chunk boundary', async () => {
    // 'é' is 2 bytes: an odd-length prefix puts one straddling the 64 KB boundary from the end.
    const line = 'é'.repeat(40_000);
    const p = file('utf8.log', `${line}\n${line}\n`);
    expect(await tailFile(p, 2)).toEqual([line, line]);
  });

  it('handles n = 0, an empty file and a last line without its newline', async () => {
    expect(await tailFile(file('a.log', 'a\nb\n'), 0)).toEqual([]);
    expect(await tailFile(file('empty.log', ''), 5)).toEqual([]);
    expect(await tailFile(file('partial.log', 'a\nb\nc'), 2)).toEqual(['b', 'c']);
  });
});
