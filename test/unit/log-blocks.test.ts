import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ownBlockCounter } from '../../src/logs/child-lines.js';
import { LogOutput, openDestination } from '../../src/logs/output.js';
import { LogSink } from '../../src/logs/sink.js';

// A worker's own access lines arrive in chunks of whole lines; the sink keeps such a chunk as one block.
const own = (pid: number, n: number) => `{"level":30,"time":"2026-11-28T00:00:00.000Z","role":"worker","pid":${pid},"worker":1,"n":${n},"msg":"request"}`;

describe('ownBlockCounter', () => {
  const counter = ownBlockCounter('worker', 42, 1000);
  const count = (text: string) => counter(Buffer.from(text));

  it("counts a block whose every line is the child's own", () => {
    expect(count(own(42, 1))).toBe(1);
    expect(count([own(42, 1), own(42, 2), own(42, 3)].join('\n'))).toBe(3);
  });

  it("refuses a block with any other line: an app's text, another pid, an empty or a too long line", () => {
    expect(count([own(42, 1), 'hello from console.log'].join('\n'))).toBe(-1);
    expect(count([own(42, 1), own(43, 2)].join('\n'))).toBe(-1);
    expect(count([own(42, 1), ''].join('\n'))).toBe(-1);
    expect(ownBlockCounter('worker', 42, 50)(Buffer.from(own(42, 1)))).toBe(-1);
    // The tag must be in the line's own head, not in a later line.
    expect(count(['{"level":30,"time":"2026-11-28T00:00:00.000Z","msg":"x"}', own(42, 2)].join('\n'))).toBe(-1);
    expect(count('')).toBe(-1);
  });
});

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function fakeChild(pid: number) {
  const child = Object.assign(new EventEmitter(), { pid, stdout: new PassThrough(), stderr: new PassThrough() });
  return child;
}

describe('LogSink with a child writing chunks', () => {
  it('logs blocks of own lines and single foreign lines in order, for the file, tail and followers alike', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-log-'));
    dirs.push(dir);
    const file = path.join(dir, 'out.log');
    const sink = new LogSink(new LogOutput(openDestination({ dest: file, mkdir: false }), file), { pretty: false });
    const child = fakeChild(42);
    sink.attachChild(child as unknown as ChildProcess, 'worker', 1);
    const followed: string[] = [];
    await sink.read(0, (l) => followed.push(l));
    const block = `${own(42, 1)}\n${own(42, 2)}\n`;
    child.stdout.write(block); // whole own lines: one block
    child.stdout.write('app says hi\n'); // a foreign line: wrapped
    child.stdout.write(own(42, 3).slice(0, 20)); // a line in two chunks: the splitter joins it
    child.stdout.write(`${own(42, 3).slice(20)}\n${own(42, 4)}\n`);
    await expect.poll(async () => (await sink.read(10, null)).lines.length).toBe(5);
    const tail = (await sink.read(10, null)).lines;
    expect(tail[0]).toBe(own(42, 1));
    expect(tail[1]).toBe(own(42, 2));
    expect(JSON.parse(tail[2] as string)).toMatchObject({ role: 'worker', pid: 42, worker: 1, stream: 'stdout', msg: 'app says hi' });
    expect(tail.slice(3)).toEqual([own(42, 3), own(42, 4)]);
    expect(followed).toEqual(tail);
    sink.flush();
    await expect.poll(() => sink.stats().written).toBe(5);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${tail.join('\n')}\n`);
    await sink.close();
  });
});
