import { describe, expect, it } from 'vitest';
import { INITIAL_SCALING_STATE, SATURATION_GROW_MS, decideScaling, type ScalingOptions, type ScalingState, type WorkerLoadSnapshot } from '../../src/master/scaling.js';

const o: ScalingOptions = { minWorkers: 1, maxWorkers: 4, workerConnections: 10, eluFull: 0.9, eluIdle: 0.3, scaleDownAfter: 1000, queuePerWorker: 5 };
const w = (active: number, elu = 0, spawning = false): WorkerLoadSnapshot => ({ active, elu, spawning });

describe('decideScaling', () => {
  it('grows when connections wait and every worker is full by connections', () => {
    const { decision } = decideScaling(0, 3, [w(10)], INITIAL_SCALING_STATE, o);
    expect(decision).toMatchObject({ kind: 'grow', count: 1 });
  });

  it('counts a CPU-saturated worker as full, whatever its connection count', () => {
    expect(decideScaling(0, 1, [w(1, 0.95)], INITIAL_SCALING_STATE, o).decision.kind).toBe('grow');
    expect(decideScaling(0, 1, [w(1, 0.5)], INITIAL_SCALING_STATE, o).decision.kind).toBe('hold');
  });

  it('grows in proportion to the queue, capped at max', () => {
    expect(decideScaling(0, 12, [w(10)], INITIAL_SCALING_STATE, o).decision).toMatchObject({ kind: 'grow', count: 3 });
    expect(decideScaling(0, 500, [w(10)], INITIAL_SCALING_STATE, o).decision).toMatchObject({ kind: 'grow', count: 3 });
    expect(decideScaling(0, 500, [w(10), w(10), w(10), w(10)], INITIAL_SCALING_STATE, o).decision.kind).toBe('hold');
  });

  it('does not grow again while a new worker is still starting', () => {
    expect(decideScaling(0, 9, [w(10), w(0, 0, true)], INITIAL_SCALING_STATE, o).decision.kind).toBe('hold');
  });

  it('does not grow when a worker still has room (a queue is only a hand-off in flight)', () => {
    expect(decideScaling(0, 2, [w(10), w(3)], INITIAL_SCALING_STATE, o).decision.kind).toBe('hold');
  });

  it('shrinks one worker only after scaleDownAfter of idleness, then waits again', () => {
    const pool = [w(0), w(1), w(0)];
    let state: ScalingState = INITIAL_SCALING_STATE;
    let r = decideScaling(0, 0, pool, state, o);
    expect(r.decision.kind).toBe('hold');
    state = r.state;
    r = decideScaling(999, 0, pool, state, o);
    expect(r.decision.kind).toBe('hold');
    r = decideScaling(1000, 0, pool, r.state, o);
    expect(r.decision).toMatchObject({ kind: 'shrink', index: 2 }); // fewest connections, newest
    r = decideScaling(1500, 0, [w(0), w(1)], r.state, o);
    expect(r.decision.kind).toBe('hold'); // one per cool-down
    r = decideScaling(2600, 0, [w(0), w(1)], r.state, o);
    expect(r.decision.kind).toBe('shrink');
  });

  it('never shrinks below min, nor while busy', () => {
    expect(decideScaling(10_000, 0, [w(0)], { ...INITIAL_SCALING_STATE, idleSince: 0 }, o).decision.kind).toBe('hold');
    expect(decideScaling(10_000, 0, [w(8), w(8)], { ...INITIAL_SCALING_STATE, idleSince: 0 }, o).decision.kind).toBe('hold');
    expect(decideScaling(10_000, 0, [w(0, 0.8), w(0, 0.8)], { ...INITIAL_SCALING_STATE, idleSince: 0 }, o).decision.kind).toBe('hold');
  });

  it('anti-flap: a grow soon after a shrink delays the next shrink, more each time', () => {
    let state: ScalingState = { ...INITIAL_SCALING_STATE, lastShrinkAt: 5000 };
    let r = decideScaling(5500, 3, [w(10)], state, o);
    expect(r.decision.kind).toBe('grow');
    expect(r.state.penalty).toBe(1000);
    state = { ...r.state, lastShrinkAt: 6000 };
    r = decideScaling(6200, 3, [w(10)], state, o);
    expect(r.state.penalty).toBe(2000);
    // Idle from 6200 on: the shrink waits scaleDownAfter + penalty after the last grow.
    let s = decideScaling(6300, 0, [w(0), w(0)], r.state, o);
    s = decideScaling(9100, 0, [w(0), w(0)], s.state, o);
    expect(s.decision.kind).toBe('hold');
    s = decideScaling(9300, 0, [w(0), w(0)], s.state, o);
    expect(s.decision.kind).toBe('shrink');
  });

  it('grows by one when every worker stays saturated for SATURATION_GROW_MS, though nothing waits in the queue', () => {
    let r = decideScaling(0, 0, [w(20, 0.97)], INITIAL_SCALING_STATE, o);
    expect(r.decision.kind).toBe('hold');
    r = decideScaling(SATURATION_GROW_MS - 1, 0, [w(20, 0.95)], r.state, o);
    expect(r.decision.kind).toBe('hold');
    r = decideScaling(SATURATION_GROW_MS, 0, [w(20, 0.95)], r.state, o);
    expect(r.decision).toMatchObject({ kind: 'grow', count: 1 });
    expect((r.decision as { reason: string }).reason).toMatch(/event loop at least 90% busy/);
  });

  it('starts the saturation window again when one report falls under --elu-full', () => {
    let r = decideScaling(0, 0, [w(20, 0.97)], INITIAL_SCALING_STATE, o);
    r = decideScaling(600, 0, [w(20, 0.5)], r.state, o);
    r = decideScaling(1200, 0, [w(20, 0.97)], r.state, o);
    expect(r.decision.kind).toBe('hold');
    r = decideScaling(1200 + SATURATION_GROW_MS, 0, [w(20, 0.97)], r.state, o);
    expect(r.decision.kind).toBe('grow');
  });

  it('does not grow on saturation while one worker has room, while one is starting, at max, or right after a grow', () => {
    const saturatedFor = (pool: WorkerLoadSnapshot[], state: ScalingState = INITIAL_SCALING_STATE, start = 0) => {
      const r = decideScaling(start, 0, pool, state, o);
      return decideScaling(start + SATURATION_GROW_MS, 0, pool, r.state, o).decision.kind;
    };
    expect(saturatedFor([w(20, 0.97), w(2, 0.4)])).toBe('hold');
    expect(saturatedFor([w(20, 0.97), w(0, 0, true)])).toBe('hold');
    expect(saturatedFor([w(5, 0.97), w(5, 0.97), w(5, 0.97), w(5, 0.97)])).toBe('hold');
    const grown = { ...INITIAL_SCALING_STATE, lastGrowAt: 10_000 };
    expect(saturatedFor([w(10, 0.97), w(10, 0.97)], grown, 10_000 - SATURATION_GROW_MS + 1)).toBe('hold');
  });
});

