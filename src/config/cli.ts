import type { Argv, Options } from 'yargs';
import { setting } from './layers.js';
import { OPTION_KEYS, OPTIONS, defaultText, kebabCase, type OptionSpec } from '../shared/options.js';
import { CONFIG_FILE_NAMES } from './file.js';
import type { Layer } from './source.js';
import { anchorPaths, valueFromText } from './text.js';

export interface AppRequest {
  /** The `[app]` argument: an app's name in the config file, or a path to an app module (relative to `cwd`). */
  readonly app?: string;
  /** Parsed command-line arguments; only the option table's keys (camelCase) are read. */
  readonly flags: Readonly<Record<string, unknown>>;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** `--config <path>`: read this file instead of looking for rocket.config.* in `cwd`. */
  readonly configPath?: string;
  /** `--env <name>`: lay each app's `env_<name>` over its `env`. */
  readonly envName?: string;
}

/** What `start` and `config` parse: the `[app]` argument, `--config`, and every option of the table by its camelCase key. */
export interface AppArgs {
  readonly app?: string;
  readonly config?: string;
  readonly env?: string;
  readonly [option: string]: unknown;
}

/**
 * The yargs flags of every option in the table. Numbers are declared without
 * a yargs type: yargs would turn `--workers two` into NaN, and the error
 * could no longer show what was typed.
 */
export function optionFlags(): Record<string, Options> {
  const flags: Record<string, Options> = {};
  for (const key of OPTION_KEYS) {
    const spec: OptionSpec = OPTIONS[key];
    if (!spec.flag) continue;
    const shown = defaultText(key);
    const flag: Options = { describe: shown === undefined ? spec.describe : `${spec.describe} [default: ${shown}]` };
    if (spec.alias !== undefined) flag.alias = spec.alias;
    if (spec.kind === 'boolean') flag.type = 'boolean';
    else if (spec.kind === 'list') Object.assign(flag, { type: 'string', array: true });
    else Object.assign(flag, { requiresArg: true, ...(spec.kind === 'string' ? { type: 'string' } : {}) });
    flags[kebabCase(key)] = flag;
  }
  return flags;
}

/** Adds `[app]`, `--config` and every option flag: what `start` and `config` share. */
export function withAppOptions(y: Argv<object>): Argv<AppArgs> {
  return y
    .positional('app', { type: 'string', describe: `an app's name in the config file, or the path of an ${OPTIONS.app.describe} [default: the config file's apps]` })
    .option('config', {
      type: 'string',
      requiresArg: true,
      describe: `config file to read [default: ${CONFIG_FILE_NAMES.join(', ')} in the current directory]`,
    })
    .option('env', {
      type: 'string',
      requiresArg: true,
      describe: "environment set to use: each app's env_<name> from the config file, laid over its env (PM2's --env)",
    })
    .options(optionFlags()) as unknown as Argv<AppArgs>; // flags generated from the table: yargs cannot infer them
}

/** The flags given on the command line, checked; relative paths are anchored at `cwd`. */
export function readFlags(args: Readonly<Record<string, unknown>>, cwd: string): Layer {
  const layer: Layer = {};
  for (const key of OPTION_KEYS) {
    let value = args[key];
    if (!OPTIONS[key].flag || value === undefined) continue;
    // Repeated words flags add up (--node-args --import=tsx --node-args --inspect); other single-value flags: the last wins, as with most CLIs.
    if (Array.isArray(value) && OPTIONS[key].kind === 'words') value = value.join(' ');
    else if (Array.isArray(value) && OPTIONS[key].kind !== 'list') value = value.at(-1);
    if (typeof value === 'string' && OPTIONS[key].kind !== 'list') value = valueFromText(key, value);
    layer[key] = setting(key, anchorPaths(key, value, cwd), { kind: 'flag', flag: `--${kebabCase(key)}` });
  }
  return layer;
}

/** What `resolveApps` needs, from parsed arguments and this process. */
export function appRequest(args: AppArgs): AppRequest {
  return {
    flags: args,
    env: process.env,
    cwd: process.cwd(),
    ...(args.app === undefined ? {} : { app: args.app }),
    ...(args.config === undefined ? {} : { configPath: args.config }),
    ...(args.env === undefined ? {} : { envName: args.env }),
  };
}
