import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root: the CLI runs with it as its working directory unless a test says otherwise. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The CLI every integration test runs; it runs the built `dist/` (`npm run build` first). */
export const BIN = path.join(ROOT, 'bin/rocket-cluster');

export const FIXTURES = path.join(ROOT, 'test/fixtures');

/** The path of a fixture app in test/fixtures. */
export function fixture(name: string): string {
  return path.join(FIXTURES, name);
}
