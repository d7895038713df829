import { resolveConfig, type ClusterConfig, type ConfigInput } from '../shared/config.js';
import { RocketError } from '../shared/errors.js';
import { OPTIONS, type OptionKey } from '../shared/options.js';

/**
 * The options of `startCluster`: one app object of a config file
 * (docs/CONFIG.md), typed from the zod schema that the option table
 * (src/shared/options.ts) derives, so a new option is typed here without a
 * line of this file changing. `app` is required; every other key is optional
 * and defaults as in the CLI.
 */
export type ClusterOptions = { -readonly [K in keyof ConfigInput]: ConfigInput[K] };

/** The keys of ClusterOptions, as the option table lists them. */
export type ClusterOptionKey = OptionKey;

/** How the master process runs: not cluster settings (those are ClusterOptions), so none of them is in a config file. */
export interface LaunchOptions {
  /**
   * The cluster lives on when the caller's process exits, as `start --daemon`
   * does: its logs go to files in `logDir` (default ~/.rocket-cluster/logs)
   * and the CLI manages it by name. Default false: the cluster stops
   * gracefully when the caller's process exits, however it exits.
   */
  detached?: boolean;
  /** Environment of the master and its workers; default the caller's `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Node options for the master and its workers, for example `['--import', 'tsx']` for an app in TypeScript; default none. */
  execArgv?: readonly string[];
}

/** An option value named as in a config file: `workers 0`. */
const describe = (key: OptionKey, value: unknown): string => `${key} ${JSON.stringify(value)}`;

/**
 * Validates the options exactly as the CLI validates a config file's app
 * object (resolveConfig, the same zod schema and cross-option checks), and
 * throws the same RocketErrors: RC_ERR_CONFIG_INVALID naming the option, the
 * value and what it expects, or RC_ERR_CONFIG_APP without an app. Relative
 * paths resolve against the caller's working directory.
 */
export function resolveOptions(options: ClusterOptions): ClusterConfig {
  // JavaScript callers get no type check: the shape is checked here too.
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new RocketError('RC_ERR_CONFIG_INVALID', `startCluster expects an options object { app: './server.js', … }, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  if (options.app === undefined) throw new RocketError('RC_ERR_CONFIG_APP', "no app to run: give startCluster({ app: './server.js', … })");
  if (typeof options.app !== 'string' || options.app === '') {
    throw new RocketError('RC_ERR_CONFIG_INVALID', `${describe('app', options.app)}: expected ${OPTIONS.app.expected}`);
  }
  // A single address (a string or an entry object) is a list of one, as in a config file.
  const listen = options.listen === undefined || Array.isArray(options.listen) ? options.listen : [options.listen as string];
  return resolveConfig({ ...options, ...(listen === undefined ? {} : { listen }) }, describe);
}
