import { onTestFinished } from 'vitest';

type Cleanup = () => unknown;

/** Cleanups registered outside a test, run when the file ends (test/setup-integration.ts). */
const fileLevel: Cleanup[] = [];

/**
 * Undoes what the caller has just started (a process, a directory) when the
 * current test ends, passed or failed, so that each test leaves nothing
 * behind for the next one. Cleanups run latest first: a process is killed
 * before the HOME it ran in is removed.
 *
 * Outside a test (module scope, `beforeAll`) there is no test to attach it
 * to: it then runs when the file ends, for a file that shares one cluster
 * between its tests.
 */
export function onCleanup(cleanup: Cleanup): void {
  try {
    onTestFinished(async () => {
      await cleanup();
    });
  } catch (error) {
    // vitest: "Hook onTestFinished() can only be called inside a test".
    if (!(error instanceof Error && error.message.includes('only be called inside a test'))) throw error;
    fileLevel.push(cleanup);
  }
}

/** Runs the cleanups registered outside a test, latest first. */
export async function runFileCleanups(): Promise<void> {
  for (let cleanup = fileLevel.pop(); cleanup; cleanup = fileLevel.pop()) await cleanup();
}
