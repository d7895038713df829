import type { ChildRole } from '../shared/child-env.js';

export type ChildStream = 'stdout' | 'stderr';

/** pino's level numbers: what an app prints on stdout is info, on stderr an error. */
const LEVEL: Record<ChildStream, number> = { stdout: 30, stderr: 50 };

/** Our pino lines carry role and pid right after level and time (ISO): this much of a line holds them. */
const HEAD_WINDOW = 128;

/**
 * Returns what the master logs for each line one child wrote on one stream.
 *
 * A line from the child's own logger (`createLogger`: JSON with its role and
 * pid) passes as it is, recognised by its first characters: access lines come
 * at request rate and are never parsed. Anything else (an app's console.log, a
 * stack trace, an app's own JSON logger) becomes one pino-shaped JSON line
 * tagged with the child (`worker: <id>` or `monitor: <id>`), its pid and the
 * stream, with the text as `msg`, so every line of the merged log is one JSON
 * object.
 */
export function childLineFormatter(role: ChildRole, id: number, pid: number, stream: ChildStream): (line: string) => string {
  const tag = `,"role":"${role}","pid":${pid},`;
  const head = `{"level":${LEVEL[stream]},"time":"`;
  const tail = `","role":"${role}","pid":${pid},"${role}":${id},"stream":"${stream}","msg":`;
  return (line) => (isOwnLine(line, tag) ? line : head + new Date().toISOString() + tail + JSON.stringify(line) + '}');
}

/**
 * An app could print text that looks like this on purpose; it would then pass
 * as is, which costs nothing but the tag. A line that merely starts with
 * `{"level":` (an app's own pino) lacks our role and pid after the time.
 */
function isOwnLine(line: string, tag: string): boolean {
  // lastIndexOf from HEAD_WINDOW looks only near the start, without copying it: this runs per access line.
  return line.startsWith('{"level":') && line.endsWith('}') && line.lastIndexOf(tag, HEAD_WINDOW) !== -1;
}

/**
 * For a block of whole lines (a chunk as the child wrote it, without its last
 * newline): how many lines it holds if every one is the child's own logger
 * line and no longer than `maxLength` bytes, else -1. Such a block is logged
 * as the bytes it came in, without a string per line: a worker's access
 * lines arrive this way. It looks at bytes (our lines' heads are ASCII) and
 * allocates nothing.
 */
export function ownBlockCounter(role: ChildRole, pid: number, maxLength: number): (block: Buffer) => number {
  const tag = Buffer.from(`,"role":"${role}","pid":${pid},`);
  const start = Buffer.from('{"level":');
  return (block) => {
    let count = 0;
    for (let at = 0; at <= block.length; count++) {
      let end = block.indexOf(0x0a, at);
      if (end === -1) end = block.length;
      if (end - at > maxLength || end - at < start.length || block[end - 1] !== 0x7d) return -1; // '}'
      if (block.compare(start, 0, start.length, at, at + start.length) !== 0) return -1;
      // The tag comes within the head, after level and time: a later line's tag does not count.
      const tagAt = block.indexOf(tag, at);
      if (tagAt === -1 || tagAt + tag.length > Math.min(end, at + HEAD_WINDOW)) return -1;
      at = end + 1;
    }
    return count;
  };
}
