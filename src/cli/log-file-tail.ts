import fs from 'node:fs/promises';

const CHUNK = 64 * 1024;

/**
 * The last `n` lines of a log file, read backwards in chunks, so a 1 GB file
 * costs what its tail costs. A line cut by the chunk boundary is read whole.
 */
export async function tailFile(file: string, n: number): Promise<string[]> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    let end = size;
    let text = '';
    // n + 1 newlines: the last line's own, and one before the first line wanted.
    while (end > 0 && countNewlines(text) <= n) {
      const start = Math.max(0, end - CHUNK);
      const buffer = Buffer.alloc(end - start);
      await handle.read(buffer, 0, buffer.length, start);
      text = buffer.toString('utf8') + text;
      end = start;
    }
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return n === 0 ? [] : lines.slice(-n);
  } finally {
    await handle.close();
  }
}

function countNewlines(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
  return count;
}
