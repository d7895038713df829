import { describe, expect, it } from 'vitest';
import { childLineFormatter } from '../../src/logs/child-lines.js';

const own = '{"level":30,"time":"2026-11-25T10:00:00.000Z","role":"worker","pid":4242,"worker":3,"method":"GET","path":"/","status":200,"msg":"request"}';

describe('childLineFormatter', () => {
  it("passes the child's own logger lines as they are (same string, not re-serialised)", () => {
    const format = childLineFormatter('worker', 3, 4242, 'stdout');
    expect(format(own)).toBe(own);
  });

  it("wraps an app's stdout line as level 30 and stderr as level 50, tagged with worker, pid and stream", () => {
    const out = JSON.parse(childLineFormatter('worker', 3, 4242, 'stdout')('hello "world"')) as Record<string, unknown>;
    expect(out).toMatchObject({ level: 30, role: 'worker', pid: 4242, worker: 3, stream: 'stdout', msg: 'hello "world"' });
    expect(new Date(out.time as string).toISOString()).toBe(out.time);
    const err = JSON.parse(childLineFormatter('worker', 3, 4242, 'stderr')('    at boom (app.js:1:1)')) as Record<string, unknown>;
    expect(err).toMatchObject({ level: 50, stream: 'stderr', msg: '    at boom (app.js:1:1)' });
  });

  it('tags a monitor line with monitor: <id>', () => {
    const out = JSON.parse(childLineFormatter('monitor', 0, 77, 'stderr')('warning')) as Record<string, unknown>;
    expect(out).toMatchObject({ role: 'monitor', pid: 77, monitor: 0, stream: 'stderr', msg: 'warning' });
  });

  it("wraps JSON that is not this child's logger: an app's own pino, another pid, a cut line", () => {
    const format = childLineFormatter('worker', 3, 4242, 'stdout');
    const appPino = '{"level":30,"time":1764064800000,"pid":4242,"hostname":"h","msg":"app"}';
    const otherPid = own.replace('"pid":4242', '"pid":999');
    const cut = own.slice(0, 60);
    for (const line of [appPino, otherPid, cut]) {
      expect(JSON.parse(format(line))).toMatchObject({ worker: 3, stream: 'stdout', msg: line });
    }
  });
});
