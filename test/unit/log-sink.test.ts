import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogOutput, openDestination } from '../../src/logs/output.js';
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

/** An output to one plain file, as stdout is one: the sink keeps its ring then. */
const fileOutput = (file: string) => new LogOutput(openDestination({ dest: file, mkdir: false }), file);
const readAll = async (sink: LogSink, lines: number) => (await sink.read(lines, null)).lines;

describe('LogSink', () => {
  it('keeps lines for tail, hands them to followers until they unsubscribe, and writes them all in order', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'out.log');
    const sink = new LogSink(fileOutput(file), { pretty: false });
    const followed: string[] = [];
    const { stop: unfollow } = await sink.read(0, (l) => followed.push(l));
    await sink.read(0, () => {
      throw new Error('a broken reader');
    });
    for (let i = 0; i < 1000; i++) sink.write(line(i));
    unfollow();
    sink.stream.write(`${line(1000)}\n`); // the master's pino writes lines with their newline
    expect(followed).toEqual(Array.from({ length: 1000 }, (_, i) => line(i)));
    expect(await readAll(sink, 2)).toEqual([line(999), line(1000)]);
    await expect.poll(() => sink.stats().written).toBe(1001);
    expect(sink.stats()).toEqual({ file, written: 1001, dropped: 0 });
    expect(fs.readFileSync(file, 'utf8')).toBe(Array.from({ length: 1001 }, (_, i) => `${line(i)}\n`).join(''));
    await sink.close();
  });

  it('on a full disk drops and counts lines past its backlog, and never throws', async () => {
    const dir = tempDir();
    fs.symlinkSync('/dev/full', path.join(dir, 'app.1.log'));
    const files = await openRotatingFile({ dir, base: 'app', maxSize: '10m', retain: 1 });
    const sink = new LogSink(files.output, { pretty: false, files });
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
    const files = await openRotatingFile({ dir, base: 'app', maxSize: '10m', retain: 2 });
    await expect.poll(() => fs.readdirSync(dir).sort()).toEqual(['app.5.log', 'app.6.log', 'app.7.log', 'current.log', 'other.log']);
    expect(files.current()).toBe(path.join(dir, 'app.7.log'));
    expect(fs.readlinkSync(files.link)).toBe('app.7.log');
    await files.output.close(1000);
  });

  it('rotates on the size of the file, whoever wrote it, and tells the other writers the new file', async () => {
    const dir = tempDir();
    const files = await openRotatingFile({ dir, base: 'app', maxSize: '1k', retain: 5 });
    const told: string[] = [];
    files.onChange((f) => told.push(f));
    // Another process appending (a worker) is a second writer of the same file.
    fs.appendFileSync(files.current(), `${'w'.repeat(2000)}\n`);
    await expect.poll(() => told).toEqual([path.join(dir, 'app.2.log')]);
    expect(files.current()).toBe(path.join(dir, 'app.2.log'));
    expect(fs.readlinkSync(files.link)).toBe('app.2.log');
    await files.output.close(1000);
  });
});

describe('LogSink with log files that workers append to', () => {
  it('reads the last lines from the file, the master\'s and a worker\'s alike, and follows them across a rotation', async () => {
    const dir = tempDir();
    const files = await openRotatingFile({ dir, base: 'app', maxSize: '4k', retain: 5 });
    const sink = new LogSink(files.output, { pretty: false, files });
    sink.write(line(0));
    fs.appendFileSync(files.current(), `${line(1)}\n`); // a worker's own line
    sink.write(line(2));
    // The master's lines are written in batches, so the worker's may come first in the file.
    expect((await readAll(sink, 3)).sort()).toEqual([line(0), line(1), line(2)].sort());
    const followed: string[] = [];
    const { lines, stop } = await sink.read(1, (l) => followed.push(l));
    expect(lines).toHaveLength(1);
    // Past 4 KB the file rotates while followed; nothing is lost or repeated.
    for (let i = 3; i < 60; i++) {
      if (i % 2 === 0) sink.write(line(i));
      else fs.appendFileSync(files.current(), `${line(i)}\n`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    sink.flush();
    await expect.poll(() => followed.length, { timeout: 5000 }).toBe(57);
    expect(new Set(followed).size).toBe(57);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('app.')).length).toBeGreaterThan(1);
    stop();
    await sink.close();
  });
});
