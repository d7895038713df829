import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { RocketError } from '../shared/errors.js';
import { jsonErrorOffset } from './json-position.js';

/** The names a config file may have, looked for in the working directory. */
export const CONFIG_FILE_NAMES = ['rocket.config.js', 'rocket.config.mjs', 'rocket.config.cjs', 'rocket.config.json'] as const;

const EXTENSIONS = /\.(js|mjs|cjs|json)$/;

/**
 * The config file to read: `explicit` (`--config`, relative to `cwd`) which
 * must exist, or the one rocket.config.* in `cwd`, or undefined when there is
 * none. Two candidates are an error: which one wins would be a guess.
 */
export function findConfigFile(cwd: string, explicit?: string): string | undefined {
  if (explicit !== undefined) {
    const file = path.resolve(cwd, explicit);
    if (!fs.existsSync(file)) throw new RocketError('RC_ERR_CONFIG_FILE', `--config ${JSON.stringify(explicit)}: no such file (${file})`);
    if (!EXTENSIONS.test(file)) throw new RocketError('RC_ERR_CONFIG_FILE', `--config ${JSON.stringify(explicit)}: expected a .js, .mjs, .cjs or .json file`);
    return file;
  }
  const found = CONFIG_FILE_NAMES.filter((name) => fs.existsSync(path.join(cwd, name)));
  if (found.length > 1) {
    throw new RocketError('RC_ERR_CONFIG_FILE', `two config files in ${cwd}: ${found.join(' and ')}; keep one, or choose one with --config`);
  }
  return found[0] === undefined ? undefined : path.join(cwd, found[0]);
}

/**
 * What a config file holds: JSON parsed, or a JS module's default export
 * (module.exports for CommonJS); an exported function is called and may be async.
 */
export async function readConfigFile(file: string): Promise<unknown> {
  if (file.endsWith('.json')) return parseJson(file, fs.readFileSync(file, 'utf8'));
  let exported: unknown;
  try {
    const module = (await import(pathToFileURL(file).href)) as { default?: unknown };
    exported = module.default;
    if (typeof exported === 'function') exported = await (exported as () => unknown)();
  } catch (error) {
    throw new RocketError('RC_ERR_CONFIG_FILE', `cannot load ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (exported === undefined) {
    throw new RocketError('RC_ERR_CONFIG_FILE', `${file} has no default export: export default { app: './server.js' } (or module.exports = … in CommonJS)`);
  }
  return exported;
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const offset = jsonErrorOffset(text);
    const where = offset === undefined ? '' : `:${lineColumn(text, offset)}`;
    throw new RocketError('RC_ERR_CONFIG_FILE', `${file}${where}: invalid JSON: ${(error as Error).message}`);
  }
}

/** `line:column`, both from 1, as compilers and editors write a position. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}
