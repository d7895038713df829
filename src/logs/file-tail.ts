import fs from 'node:fs/promises';

const CHUNK = 64 * 1024;

/**
 * The last `n` lines of a log file (of its first `upTo` bytes, if given),
 * read backwards in chunks, so a 1 GB file costs what its tail costs. The
 * chunks are decoded once, together, so a character split by a chunk
 * boundary stays whole.
 */
export async function tailFile(file: string, n: number, upTo?: number): Promise<string[]> {
  if (n === 0) return [];
  const handle = await fs.open(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let newlines = 0;
    const size = (await handle.stat()).size;
    // n + 1 newlines: the last line's own, and the one before the first line wanted.
    for (let end = Math.min(size, upTo ?? size); end > 0 && newlines <= n; ) {
      const start = Math.max(0, end - CHUNK);
      const chunk = Buffer.alloc(end - start);
      await handle.read(chunk, 0, chunk.length, start);
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++;
      chunks.unshift(chunk);
      end = start;
    }
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-n);
  } finally {
    await handle.close();
  }
}
