import { readFileSync } from 'node:fs';
import { processTree } from './procfs.js';

/**
 * CPU time in ms of a process tree over its whole life so far: the root's own
 * (utime + stime), its reaped children's (cutime + cstime: workers that
 * exited, for example after a reload) and every live descendant's own. A
 * descendant that exited is counted once its parent has reaped it, which Node
 * does at once. Clock ticks are 10 ms (USER_HZ 100, see procfs.ts cpuMs).
 */
export function treeCpuMs(root: number): number {
  const ticks = (pid: number, fields: readonly number[]): number => {
    const f = statFields(pid);
    return f === null ? 0 : fields.reduce((sum, i) => sum + Number(f[i]), 0);
  };
  const live = processTree(root).filter((p) => p !== root);
  return ((ticks(root, [11, 12, 13, 14]) + live.reduce((sum, p) => sum + ticks(p, [11, 12]), 0)) * 1000) / 100;
}

/** Fields of /proc/<pid>/stat after the command name: index 11 utime, 12 stime, 13 cutime, 14 cstime. */
function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}
