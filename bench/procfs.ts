import { readFileSync, readdirSync } from 'node:fs';

// Linux /proc readers. The bench runs on Linux only (wrk, /proc); each reader
// returns null for a process that has gone, because a server may exit mid-read.

/** Resident set size in bytes, from `VmRSS` in /proc/<pid>/status. */
export function rssBytes(pid: number): number | null {
  const text = read(`/proc/${pid}/status`);
  const m = text === null ? null : /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : null;
}

/**
 * Unique set size in bytes (Private_Clean + Private_Dirty in
 * /proc/<pid>/smaps_rollup): the pages only this process maps, what its exit
 * would free. RSS counts the node binary's text (about 34 MB) whole in every
 * process; USS counts none of it, so it shows what one more process costs.
 */
export function ussBytes(pid: number): number | null {
  const text = read(`/proc/${pid}/smaps_rollup`);
  if (text === null) return null;
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(text)?.[1] ?? Number.NaN);
  const total = kb('Private_Clean') + kb('Private_Dirty');
  return Number.isFinite(total) ? total * 1024 : null;
}

/** The command line of a process, arguments joined by spaces; null if it has gone. */
export function commandLine(pid: number): string | null {
  const text = read(`/proc/${pid}/cmdline`);
  return text === null ? null : text.split('\0').join(' ').trim();
}

/** Summed RSS of `pids` (a process tree); processes that have gone count 0. Shared pages count once per process. */
export function treeRssBytes(pids: readonly number[]): number {
  return pids.reduce((sum, p) => sum + (rssBytes(p) ?? 0), 0);
}

/** Summed USS of `pids`; processes that have gone count 0. */
export function treeUssBytes(pids: readonly number[]): number {
  return pids.reduce((sum, p) => sum + (ussBytes(p) ?? 0), 0);
}

/**
 * CPU time (user + system) in ms. /proc reports clock ticks; USER_HZ is 100 on
 * every Linux build Node supports on x86/arm, and Node has no sysconf binding.
 */
export function cpuMs(pid: number): number | null {
  const f = statFields(pid);
  if (f === null) return null;
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

/**
 * CPU time in ms at nanosecond resolution: the time on a CPU of every thread
 * of the process (/proc/<pid>/task/<tid>/schedstat). The clock ticks of
 * /proc/<pid>/stat are 10 ms, too coarse for a cost of a few hundred µs per
 * event. A thread that exited is not counted.
 */
export function cpuMsFine(pid: number): number | null {
  // schedstat is per task; the process's threads (libuv, V8 platform) are in /proc/<pid>/task/*/schedstat.
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  let ns = 0;
  for (const tid of tasks) {
    const text = read(`/proc/${pid}/task/${tid}/schedstat`);
    if (text !== null) ns += Number(text.split(' ')[0]);
  }
  return ns / 1e6;
}

/** The process and all its descendants, found by walking parent pids in /proc. */
export function processTree(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f !== null) parentOf.set(Number(name), Number(f[1]));
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parentOf) if (ppid === tree[i]) tree.push(pid);
  }
  return tree;
}

/** Soft limit on open files for this process (what `ulimit -n` shows); Infinity if unlimited. */
export function openFileLimit(): number {
  const m = /^Max open files\s+(\S+)/m.exec(read('/proc/self/limits') ?? '');
  return m && m[1] !== 'unlimited' ? Number(m[1]) : Infinity;
}

export function isAlive(pid: number): boolean {
  return statFields(pid) !== null;
}

/**
 * Fields of /proc/<pid>/stat after the command name, so index 0 is the state,
 * 1 the parent pid, 11 utime and 12 stime. The name is in parentheses and may
 * contain spaces, hence the split at the last ')'. A zombie counts as gone.
 */
function statFields(pid: number): string[] | null {
  const text = read(`/proc/${pid}/stat`);
  if (text === null) return null;
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return fields[0] === 'Z' ? null : fields;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
