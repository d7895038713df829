import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Launched, LogLine } from './children.js';

// A rocket-cluster started with --log-dir writes its JSON lines to
// <dir>/<name>/current.log (rotated by size) instead of stdout. The bench reads
// that file only until the cluster is ready, and once more after it stopped
// for warnings: tailing it during the load would make the bench parse every
// access-log line and compete with the servers for the two cores.

const POLL_MS = 50;
const KEEP_PROBLEMS = 200;

/**
 * Polls `file` until each matcher has matched a line; returns the first match
 * of each, in order. Fails when `proc` exits first or `timeoutMs` pass.
 */
export async function waitForFileLines(file: string, matchers: readonly ((l: LogLine) => boolean)[], proc: Launched, timeoutMs: number): Promise<LogLine[]> {
  const deadline = Date.now() + timeoutMs;
  let lines: LogLine[] = [];
  for (;;) {
    lines = readJsonLines(file);
    const found = matchers.map((m) => lines.find(m));
    if (found.every((l) => l !== undefined)) return found as LogLine[];
    const exited = proc.child.exitCode ?? proc.child.signalCode;
    const why = exited !== null ? `exited with ${exited}` : Date.now() > deadline ? `not ready within ${timeoutMs} ms` : null;
    if (why !== null) {
      const tail = [...lines.slice(-5).map((l) => JSON.stringify(l)), ...proc.otherOutput.slice(-5)];
      throw new Error(`${file}: ${why}; last lines: ${tail.join(' | ')}`);
    }
    await sleep(POLL_MS);
  }
}

/** Warn-or-worse lines (pino level ≥ 40) of every log file under `dir`, at most KEEP_PROBLEMS. */
export async function logFileProblems(dir: string): Promise<LogLine[]> {
  const problems: LogLine[] = [];
  let files: string[];
  try {
    // Regular files only: current.log is a symlink to one of them.
    files = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && d.name.endsWith('.log'))
      .map((d) => path.join(d.parentPath, d.name));
  } catch {
    return problems;
  }
  for (const file of files) {
    for await (const text of readline.createInterface({ input: createReadStream(file) })) {
      // Access-log lines are level 30: skip the JSON parse for almost every line.
      if (problems.length >= KEEP_PROBLEMS) return problems;
      if (!/"level":[4-6]\d/.test(text)) continue;
      try {
        problems.push(JSON.parse(text) as LogLine);
      } catch {
        problems.push({ msg: `unparsable line in ${file}: ${text.slice(0, 200)}` });
      }
    }
  }
  return problems;
}

function readJsonLines(file: string): LogLine[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const lines: LogLine[] = [];
  for (const t of text.split('\n')) {
    try {
      if (t !== '') lines.push(JSON.parse(t) as LogLine);
    } catch {
      // A line still being written: the next poll reads it whole.
    }
  }
  return lines;
}
