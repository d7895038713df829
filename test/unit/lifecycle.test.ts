import { describe, expect, it } from 'vitest';
import { transition } from '../../src/master/lifecycle.js';

describe('child lifecycle', () => {
  it('allows the normal life of a worker', () => {
    expect(transition('spawning', 'ready')).toBe('ready');
    expect(transition('ready', 'draining')).toBe('draining');
    expect(transition('draining', 'stopping')).toBe('stopping');
    expect(transition('stopping', 'exited')).toBe('exited');
    expect(transition('spawning', 'exited')).toBe('exited');
  });

  it('rejects illegal moves', () => {
    expect(() => transition('exited', 'ready')).toThrow(/exited -> ready/);
    expect(() => transition('stopping', 'ready')).toThrow();
    expect(() => transition('draining', 'ready')).toThrow();
  });
});
