import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { vi } from 'vitest';
import { run } from '../../src/cli/index.js';
import { RocketError } from '../../src/shared/errors.js';

/** A fresh directory holding `files` (name → content); removed by `removeDirs`. */
export function dirWith(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-config-'));
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  made.push(dir);
  return dir;
}

const made: string[] = [];

export function removeDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** The RocketError a call throws (or rejects with). */
export async function errorOf(fn: () => unknown): Promise<RocketError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof RocketError) return e;
    throw e;
  }
  throw new Error('expected a RocketError');
}

/** Runs the CLI in this process (as bin/rocket-cluster does) and captures what it prints. */
export async function cli(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    const code = await run(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
