import { describe, expect, it } from 'vitest';
import { ownBlockCounter } from '../../src/logs/child-lines.js';
import { jsonLine } from '../../src/shared/child-log.js';

describe("a child's log line", () => {
  const base = { role: 'worker', pid: 42, worker: 1 };

  it("has pino's shape: level, ISO time, role, pid, base fields, event fields, msg, one line", () => {
    const line = jsonLine(30, base, { connections: 3 }, 'draining');
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['level', 'time', 'role', 'pid', 'worker', 'connections', 'msg']);
    expect(parsed).toMatchObject({ level: 30, role: 'worker', pid: 42, worker: 1, connections: 3, msg: 'draining' });
    expect(new Date(parsed.time as string).toISOString()).toBe(parsed.time);
    // The master passes it through as the child's own line, untouched.
    expect(ownBlockCounter('worker', 42, 64 * 1024)(Buffer.from(line.slice(0, -1)))).toBe(1);
  });

  it('serialises an error as pino does: type, message, stack, its own fields and its cause', () => {
    const error = Object.assign(new TypeError('boom', { cause: new Error('root') }), { code: 'E_BOOM' });
    const parsed = JSON.parse(jsonLine(50, base, { err: error }, 'request handler failed')) as { err: Record<string, unknown> };
    expect(parsed.err).toMatchObject({ type: 'TypeError', message: 'boom', code: 'E_BOOM', cause: { type: 'Error', message: 'root' } });
    expect(String(parsed.err.stack)).toContain('TypeError: boom');
  });

  it('still logs the event when a field cannot be serialised', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const parsed = JSON.parse(jsonLine(40, base, { cyclic, n: 10n }, 'odd fields')) as Record<string, unknown>;
    expect(parsed).toMatchObject({ level: 40, role: 'worker', pid: 42, msg: 'odd fields' });
    expect(typeof parsed.unserializable).toBe('string');
  });
});
