import { RocketError } from '../shared/errors.js';

/** Exit codes of every command: 0 done, 1 failed, 2 bad usage (the command line or the config). */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export type SetCode = (code: number) => void;

/** An error in what the operator typed: printed, exit 2. */
export class UsageError extends Error {}

/**
 * Runs a command's body: prints a failure as one `rocket-cluster: ...` line on
 * stderr, and sets the exit code (a config error or UsageError is a usage error).
 */
export async function runCommand(setCode: SetCode, body: () => Promise<number | void>): Promise<void> {
  try {
    setCode((await body()) ?? EXIT.ok);
  } catch (error) {
    if (!(error instanceof RocketError) && !(error instanceof UsageError)) throw error;
    process.stderr.write(`rocket-cluster: ${error.message}\n`);
    const usage = error instanceof UsageError || error.code.startsWith('RC_ERR_CONFIG_');
    setCode(usage ? EXIT.usage : EXIT.failure);
  }
}
