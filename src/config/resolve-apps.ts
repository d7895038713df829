import { RocketError } from '../shared/errors.js';
import { readFlags, type AppRequest } from './cli.js';
import { readEnv, type IgnoredVariable } from './env.js';
import { chooseEnvSet, fileApps, type ConfigFile } from './file-apps.js';
import { findConfigFile, readConfigFile } from './file.js';
import { resolveLayers, type ResolvedApp } from './layers.js';
import { selectApps } from './select.js';
import { describeSetting } from './source.js';

export type { ResolvedApp } from './layers.js';
export type { AppRequest } from './cli.js';

export interface ResolvedApps {
  /** The apps to run, in file order; more than one only when no `[app]` was given. */
  readonly apps: readonly ResolvedApp[];
  /** The config file read, if any (it may not apply to a module given by path: see selectApps). */
  readonly configFile?: string;
  readonly ignoredEnv: readonly IgnoredVariable[];
}

/**
 * Every app's effective config: defaults, then the config file, then ROCKET_*
 * variables, then flags, each value checked where it is read. Throws a
 * RocketError (RC_ERR_CONFIG_*) naming the option, its source, the bad value
 * and what is expected; the CLI prints it and exits 2.
 */
export async function resolveApps(request: AppRequest): Promise<ResolvedApps> {
  const { cwd } = request;
  const flags = readFlags(request.flags, cwd);
  const env = readEnv(request.env, cwd);
  const path = findConfigFile(cwd, request.configPath);
  const read: ConfigFile | undefined = path === undefined ? undefined : fileApps(path, await readConfigFile(path));
  const file = request.envName === undefined ? read : chooseEnvSet(read, request.envName);
  const staticGiven = flags.static !== undefined || env.layer.static !== undefined;
  const apps = selectApps(file, request.app, cwd, staticGiven).map((layer) => resolveLayers([layer, env.layer, flags]));
  checkUniqueNames(apps);
  return { apps, ignoredEnv: env.ignored, ...(path === undefined ? {} : { configFile: path }) };
}

/**
 * The config of the app named `name`, resolved again from how its cluster was
 * started (`request`: the start's flags, environment, directory and config
 * file, read as it is now): what a reload and a master upgrade run.
 */
export async function resolveNamedApp(request: AppRequest, name: string): Promise<ResolvedApp['config']> {
  const app = (await resolveApps(request)).apps.find((a) => a.config.name === name);
  if (!app) throw new RocketError('RC_ERR_CONFIG_APP', `the config on disk has no app named ${JSON.stringify(name)} any more`);
  return app.config;
}

/**
 * The one app to run in the foreground. Several (a config file of several
 * apps and no `[app]`) is a usage error that lists them.
 */
export function singleApp(resolved: ResolvedApps): ResolvedApp {
  const [first, ...others] = resolved.apps;
  if (first === undefined) throw new Error('resolveApps returned no app'); // it throws instead
  if (others.length > 0) {
    const names = resolved.apps.map((a) => a.config.name);
    throw new RocketError(
      'RC_ERR_CONFIG_APP',
      `several apps in ${resolved.configFile ?? 'the config file'} (${names.join(', ')}): name one, for example rocket-cluster start ${first.config.name}, or use --daemon to start them all`,
    );
  }
  return first;
}

/** Names identify running clusters (logs, control sockets): a `--name` given to several apps would clash. */
function checkUniqueNames(apps: readonly ResolvedApp[]): void {
  const seen = new Set<string>();
  for (const app of apps) {
    const { name } = app.config;
    if (seen.has(name)) {
      throw new RocketError(
        'RC_ERR_CONFIG_INVALID',
        `${describeSetting('name', name, app.sources.name)} would give several apps the same name: name one app on the command line, or give each its own name in the config file`,
      );
    }
    seen.add(name);
  }
}
