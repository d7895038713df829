import fs from 'node:fs';
import path from 'node:path';
import { RocketError } from '../shared/errors.js';
import type { ConfigFile } from './file-apps.js';
import type { Layer } from './source.js';
import { closest } from '../shared/suggest.js';

/**
 * The file layers of the apps to run, given the `[app]` argument:
 * - none: every app of the config file (or, with `static` given and no
 *   file, a static file server);
 * - an app's name in the file: that app;
 * - a path: a module to run. The file's settings apply when exactly one of
 *   its apps has that module as `app`, or when the file is a single app
 *   object without `app` (settings for whatever app the command line names);
 *   otherwise the file is not used for it.
 */
export function selectApps(file: ConfigFile | undefined, arg: string | undefined, cwd: string, staticGiven = false): Layer[] {
  if (arg === undefined) {
    // With --static (on the command line, in ROCKET_STATIC or in the file) there may be no app: a static file server.
    if (file === undefined) {
      if (staticGiven) return [{}];
      throw new RocketError(
        'RC_ERR_CONFIG_APP',
        `no app to run and no config file in ${cwd}: give one, for example rocket-cluster start ./app.js, serve files with rocket-cluster start --static ./public, or write a rocket.config.mjs (docs/CONFIG.md)`,
      );
    }
    const first = file.apps[0];
    if (first?.app === undefined && !staticGiven && first?.layer.static === undefined) {
      throw new RocketError('RC_ERR_CONFIG_APP', `${file.path} names no app: add app: './server.js' (or static: './public') to it, or give one, for example rocket-cluster start ./server.js`);
    }
    return file.apps.map((a) => a.layer);
  }
  const argument = (app: string): Layer => ({ app: { value: app, source: { kind: 'argument' } } });
  const module = path.resolve(cwd, arg);
  if (file === undefined) return [argument(module)];
  const byName = file.apps.find((a) => (a.app !== undefined || a.layer.static !== undefined) && a.name === arg);
  if (byName) return [byName.layer];
  const byPath = file.apps.filter((a) => a.app === module);
  if (byPath.length > 1) {
    const names = byPath.map((a) => a.name);
    throw new RocketError('RC_ERR_CONFIG_APP', `${arg} is the app of several apps in ${file.path} (${names.join(', ')}): name one, for example rocket-cluster start ${names[0]}`);
  }
  if (byPath[0]) return [byPath[0].layer];
  const only = file.apps.length === 1 ? file.apps[0] : undefined;
  if (only && only.app === undefined) return [{ ...only.layer, ...argument(module) }];
  if (looksLikeName(arg) && !fs.existsSync(module)) {
    const names = file.apps.map((a) => a.name);
    const hint = closest(arg, names);
    throw new RocketError(
      'RC_ERR_CONFIG_APP',
      `no app named ${JSON.stringify(arg)} in ${file.path} (its apps: ${names.join(', ')}) and no file ${module}${hint === undefined ? '' : `; did you mean ${JSON.stringify(hint)}?`}`,
    );
  }
  return [argument(module)];
}

/** `api` rather than `./api.js`: no directory and no module extension. */
function looksLikeName(arg: string): boolean {
  return !arg.includes('/') && !arg.includes(path.sep) && !/\.[cm]?[jt]s$/.test(arg);
}
