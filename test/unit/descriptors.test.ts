import { describe, expect, it } from 'vitest';
import { DescriptorWatch, FD_LOG_INTERVAL_MS, FD_MARGIN, descriptorLimit, openDescriptors, type DescriptorReading } from '../../src/shared/descriptors.js';
import { pickWorker } from '../../src/master/scheduling.js';

const LIMIT = 100;

/** A watch over readings the test sets, with every line it logs. */
function watch() {
  let reading: DescriptorReading = { open: 10, limit: LIMIT };
  const lines: { level: 'warn' | 'info'; fields: Record<string, unknown>; msg: string }[] = [];
  const w = new DescriptorWatch(
    { warn: (fields, msg) => lines.push({ level: 'warn', fields, msg }), info: (fields, msg) => lines.push({ level: 'info', fields, msg }) },
    { read: () => reading },
  );
  return { w, lines, set: (r: DescriptorReading) => (reading = r) };
}

describe('DescriptorWatch', () => {
  it('counts one episode from the margin under the limit until well under it again, with one warning and one line when it ends', () => {
    const { w, lines, set } = watch();
    w.sample(0);
    expect(w.state).toEqual({ open: 10, limit: LIMIT, exhausted: 0, now: false });
    set({ open: LIMIT - FD_MARGIN - 1, limit: LIMIT });
    w.sample(500);
    expect(w.state.exhausted).toBe(0);
    set({ open: LIMIT - FD_MARGIN, limit: LIMIT });
    w.sample(1000);
    expect(w.state).toMatchObject({ exhausted: 1, now: true });
    // Hovering between the margin and twice the margin is the same episode.
    for (const open of [LIMIT - FD_MARGIN - 3, LIMIT, LIMIT - 2 * FD_MARGIN, LIMIT - 1]) {
      set({ open, limit: LIMIT });
      w.sample(1500);
    }
    expect(w.state).toMatchObject({ exhausted: 1, now: true });
    set({ open: LIMIT - 2 * FD_MARGIN - 1, limit: LIMIT });
    w.sample(2000);
    expect(w.state).toMatchObject({ exhausted: 1, now: false });
    expect(lines.map((l) => l.level)).toEqual(['warn', 'info']);
    expect(lines[0]!.msg).toMatch(/^out of file descriptors/);
    expect(lines[1]).toMatchObject({ msg: 'file descriptors available again', fields: { lastedMs: 1000 } });
    // The next episode is counted and warned about at once.
    set({ open: LIMIT, limit: LIMIT });
    w.sample(2500);
    expect(w.state.exhausted).toBe(2);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(2);
  });

  it('warns at most once per interval while an episode lasts, however many accepts fail', () => {
    const { w, lines, set } = watch();
    set({ open: LIMIT, limit: LIMIT });
    for (let t = 0; t < 3 * FD_LOG_INTERVAL_MS; t += 100) {
      w.sample(t);
      w.acceptFailed(-24, t);
    }
    expect(w.state.exhausted).toBe(1);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(3);
    // The warning after the first says how many accepts failed since the one before.
    expect(lines[1]!.fields.failedAccepts).toBe(FD_LOG_INTERVAL_MS / 100);
  });

  it('an accept failing with EMFILE starts an episode; another errno is only counted', () => {
    const { w, lines } = watch();
    w.acceptFailed(-104, 0); // ECONNRESET
    expect(w.state.exhausted).toBe(0);
    w.acceptFailed(-24, 1); // EMFILE
    expect(w.state).toMatchObject({ exhausted: 1, now: true });
    expect(lines).toHaveLength(2);
  });

  it('no descriptor left to read /proc with is an episode too, with the open count and the limit it last knew', () => {
    const { w, lines, set } = watch();
    w.sample(0);
    set({ open: 95, limit: 'exhausted' }); // the limit was lowered under it (prlimit): the old one says nothing
    w.sample(500);
    expect(w.state).toEqual({ open: 95, limit: LIMIT, exhausted: 1, now: true });
    expect(lines[0]!.fields.why).toBe('no descriptor left to read /proc with');
  });

  it("about another process, a reading that failed for want of the reader's own descriptors says nothing of that process", () => {
    let reading: DescriptorReading = { open: 20, limit: LIMIT };
    const w = new DescriptorWatch({ warn: () => {}, info: () => {} }, { target: () => 4242, read: () => reading });
    w.sample(0);
    reading = { open: 20, limit: 'exhausted' };
    w.sample(500);
    expect(w.state).toEqual({ open: 20, limit: LIMIT, exhausted: 0, now: false });
  });

  it('an unlimited or unknown limit is never exhaustion', () => {
    const { w, set } = watch();
    set({ open: 1_000_000, limit: Infinity });
    w.sample(0);
    set({ open: 1_000_000, limit: null });
    w.sample(500);
    expect(w.state).toMatchObject({ exhausted: 0, now: false, limit: null });
  });

  it('reads this process from /proc', () => {
    const open = openDescriptors();
    const limit = descriptorLimit();
    expect(typeof open).toBe('number');
    expect(typeof limit).toBe('number');
    expect(open as number).toBeGreaterThan(2);
    expect(open as number).toBeLessThan(limit as number);
  });
});

describe('pickWorker and descriptors', () => {
  it('skips a worker out of file descriptors, however few connections it has', () => {
    const w = (active: number, outOfDescriptors: boolean) => ({ ready: true, busy: false, active, generation: 1, outOfDescriptors });
    expect(pickWorker([w(0, true), w(5, false)], 100)).toBe(1);
    expect(pickWorker([w(0, true), w(1, true)], 100)).toBe(-1);
  });
});
