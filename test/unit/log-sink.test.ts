import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openRotatingFile } from '../../src/logs/rotating-file.js';
import { LogSink } from '../../src/logs/sink.js';

// Real files in a temporary directory; no processes.
const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-log-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const line = (i: number) => JSON.stringify({ level: 30, n: i, msg: 'x'.repeat(100) });

describe('LogSink', () => {
  it('keeps lines for tail, hands them to followers until they unsubscribe, and writes them all in order', async () => {
    const dir = tempDir();
    const sink = new LogSink(await openRotatingFile({ dir, base: 'app', maxSize: '10m', retain: 1 }), { pretty: false });
    const followed: string[] = [];
    const unfollow = sink.follow((l) => followed.push(l));
    sink.follow(() => {
      throw new Error('a broken reader');
    });
    for (let i = 0; i < 1000; i++) sink.write(line(i));
    unfollow();
    sink.stream.write(`${line(1000)}\n`); // the master's pino writes lines with their newline
    expect(followed).toEqual(Array.from({ length: 1000 }, (_, i) => line(i)));
    expect(sink.tail(2)).toEqual([line(999), line(1000)]);
    await expect.poll(() => sink.stats().written).toBe(1001);
    expect(sink.stats()).toEqual({ file: path.join(dir, 'app.1.log'), written: 1001, dropped: 0 });
    expect(fs.readFileSync(path.join(dir, 'current.log'), 'utf8')).toBe(Array.from({ length: 1001 }, (_, i) => `${line(i)}\n`).join(''));
    await sink.close();
  });

  it('on a full disk drops and counts lines past its backlog, and never throws', async () => {
    const dir = tempDir();
    fs.symlinkSync('/dev/full', path.join(dir, 'app.1.log'));
    const sink = new LogSink(await openRotatingFile({ dir, base: 'app', maxSize: '10m', retain: 1 }), { pretty: false });
    const lines = 8000; // about 8 MB, past the 4 MB backlog
    for (let i = 0; i < lines; i++) sink.write(JSON.stringify({ n: i, msg: 'x'.repeat(1000) }));
    sink.flush();
    expect(sink.stats().dropped).toBeGreaterThan(0);
    await sink.close(); // what is still held is lost too
    expect(sink.stats()).toMatchObject({ written: 0, dropped: lines });
  });
});

describe('openRotatingFile', () => {
  it('deletes files of earlier runs beyond --log-retain and goes on in the highest-numbered file', async () => {
    const dir = tempDir();
    for (let n = 1; n <= 7; n++) fs.writeFileSync(path.join(dir, `app.${n}.log`), `run before, file ${n}\n`);
    fs.writeFileSync(path.join(dir, 'other.log'), 'not ours\n');
    const output = await openRotatingFile({ dir, base: 'app', maxSize: '10m', retain: 2 });
    await expect.poll(() => fs.readdirSync(dir).sort()).toEqual(['app.5.log', 'app.6.log', 'app.7.log', 'current.log', 'other.log']);
    expect(output.file).toBe(path.join(dir, 'app.7.log'));
    await output.close(1000);
  });
});
