import { describe, expect, it } from 'vitest';
import { hungReason, type Liveness } from '../../src/master/liveness.js';

const limits = { startTimeout: 5000, workerTimeout: 1000 };
const child = (state: Liveness['state'], startedAt: number, lastHeard: number): Liveness => ({ state, startedAt, lastHeard });

describe('hungReason (workers and the monitor alike)', () => {
  it('a spawning child is hung only once past startTimeout, however long it has been silent', () => {
    expect(hungReason(child('spawning', 0, 0), 5000, limits)).toBeNull();
    expect(hungReason(child('spawning', 0, 0), 5001, limits)).toBe('not ready within 5000 ms');
  });

  it('a ready or draining child is hung once silent for more than workerTimeout', () => {
    for (const state of ['ready', 'draining'] as const) {
      expect(hungReason(child(state, 0, 10_000), 11_000, limits)).toBeNull();
      expect(hungReason(child(state, 0, 10_000), 11_001, limits)).toBe('no heartbeat for 1001 ms (event loop blocked?)');
    }
  });

  it('a stopping or exited child is left to the shutdown and drain deadlines', () => {
    expect(hungReason(child('stopping', 0, 0), 1e9, limits)).toBeNull();
    expect(hungReason(child('exited', 0, 0), 1e9, limits)).toBeNull();
  });
});
