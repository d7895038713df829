import path from 'node:path';
import { STATIC_ONLY_NAME, defaultAppName } from '../shared/config.js';
import { RocketError } from '../shared/errors.js';
import { setting } from './layers.js';
import { OPTIONS, OPTION_KEYS, isOptionKey } from '../shared/options.js';
import type { Layer } from './source.js';
import { closest } from '../shared/suggest.js';
import { anchorPaths, valueFromText } from './text.js';

/** A named environment set: `env_production`, `env_staging`. */
const ENV_SET = /^env_([\w.-]+)$/;

/** One app of a config file, its values checked, its paths absolute. */
export interface FileApp {
  /** Its name: given, or the app module's file name. Unique within the file. */
  readonly name: string;
  /** The app module, absolute; undefined for a static file server (`static` only) or a single app object without `app` (settings for the `[app]` argument). */
  readonly app?: string;
  readonly layer: Layer;
  /** Its `env_<name>` sets, by name: `--env <name>` lays one over `env`. */
  readonly envSets: Readonly<Record<string, Record<string, unknown>>>;
}

export interface ConfigFile {
  readonly path: string;
  readonly apps: readonly FileApp[];
}

const SHAPE = "expected one app object { app: './server.js', workers: 4, … } or { apps: [{ name: 'api', app: './api.js', … }, …] }";

/**
 * The apps a config file describes: one app object, or `{ apps: [...] }`.
 * Unknown keys, bad values and duplicate names are errors naming the key (and
 * a close option), the value, the file and what is expected.
 */
export function fileApps(file: string, data: unknown): ConfigFile {
  const fail = (message: string): never => {
    throw new RocketError('RC_ERR_CONFIG_INVALID', `${file}: ${message}`);
  };
  if (!isPlainObject(data)) return fail(`${SHAPE}, got ${describeType(data)}`);
  if (!('apps' in data)) return { path: file, apps: [fileApp(file, data, '')] };
  const beside = Object.keys(data).filter((k) => k !== 'apps');
  if (beside.length > 0) fail(`${JSON.stringify(beside[0])} beside "apps": put it in each app of "apps"`);
  const list = data.apps;
  if (!Array.isArray(list) || list.length === 0) return fail(`"apps" must be a non-empty array of app objects, got ${describeType(list)}`);
  const apps = list.map((entry: unknown, i) => {
    if (!isPlainObject(entry)) return fail(`apps[${i}]: expected an app object { name: 'api', app: './api.js', … }, got ${describeType(entry)}`);
    const app = fileApp(file, entry, `apps[${i}].`);
    if (app.app === undefined && app.layer.static === undefined) fail(`apps[${i}] has no "app": add app: './server.js' (or static: './public' for a static file server)`);
    return app;
  });
  const seen = new Map<string, number>();
  apps.forEach((app, i) => {
    const first = seen.get(app.name);
    if (first !== undefined) fail(`apps[${first}] and apps[${i}] are both named ${JSON.stringify(app.name)}: give each app a distinct name`);
    seen.set(app.name, i);
  });
  return { path: file, apps };
}

function fileApp(file: string, entry: Record<string, unknown>, prefix: string): FileApp {
  const layer: Layer = {};
  const envSets: Record<string, Record<string, unknown>> = {};
  const base = path.dirname(file);
  for (const [key, raw] of Object.entries(entry)) {
    const set = ENV_SET.exec(key)?.[1];
    if (set !== undefined) {
      // PM2's env_production: checked as `env` is, chosen with --env production.
      envSets[set] = setting('env', raw, { kind: 'file', file, key: prefix + key }).value as Record<string, unknown>;
      continue;
    }
    if (!isOptionKey(key)) {
      const hint = closest(key, OPTION_KEYS);
      throw new RocketError(
        'RC_ERR_CONFIG_INVALID',
        `${file}: unknown option ${JSON.stringify(prefix + key)}${hint === undefined ? '' : `: did you mean ${JSON.stringify(hint)}?`} (options: docs/CONFIG.md)`,
      );
    }
    if (raw === undefined) continue;
    // A file may give a single address (a string or an entry object); flags repeat and env lists are comma-separated instead.
    // Words (nodeArgs, args) may be one string, split as the flag's text is.
    const kind = OPTIONS[key].kind;
    const value = kind === 'list' && !Array.isArray(raw) ? [raw] : kind === 'words' && typeof raw === 'string' ? valueFromText(key, raw) : raw;
    layer[key] = setting(key, anchorPaths(key, value, base), { kind: 'file', file, key: prefix + key });
  }
  const app = layer.app?.value as string | undefined;
  const name = (layer.name?.value as string | undefined) ?? (app !== undefined ? defaultAppName(app) : layer.static !== undefined ? STATIC_ONLY_NAME : '');
  return { name, layer, envSets, ...(app === undefined ? {} : { app }) };
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function describeType(x: unknown): string {
  return Array.isArray(x) ? 'an array' : x === null ? 'null' : typeof x;
}

/**
 * `--env <name>`: each app's `env_<name>` laid over its `env` (a variable in
 * both takes the set's value). A name no app of the file has is an error
 * naming the sets there are: a typo would silently run with the wrong
 * environment.
 */
export function chooseEnvSet(file: ConfigFile | undefined, name: string): ConfigFile {
  const fail = (message: string): never => {
    throw new RocketError('RC_ERR_CONFIG_INVALID', `--env ${JSON.stringify(name)}: ${message}`);
  };
  if (file === undefined) return fail('there is no config file to hold env_' + name + ' (docs/CONFIG.md#environments)');
  if (!file.apps.some((a) => name in a.envSets)) {
    const known = [...new Set(file.apps.flatMap((a) => Object.keys(a.envSets)))];
    return fail(`no app in ${file.path} has env_${name}${known.length === 0 ? '' : ` (sets there: ${known.map((k) => `env_${k}`).join(', ')})`}`);
  }
  const apps = file.apps.map((app): FileApp => {
    const set = app.envSets[name];
    if (set === undefined) return app;
    const env = { ...((app.layer.env?.value as Record<string, unknown> | undefined) ?? {}), ...set };
    return { ...app, layer: { ...app.layer, env: { value: env, source: { kind: 'file', file: file.path, key: `env_${name}` } } } };
  });
  return { ...file, apps };
}
