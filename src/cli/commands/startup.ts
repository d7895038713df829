import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv, CommandModule } from 'yargs';
import { appRequest, optionFlags, readFlags, type AppArgs } from '../../config/cli.js';
import { CONFIG_FILE_NAMES } from '../../config/file.js';
import { resolveApps, singleApp } from '../../config/resolve-apps.js';
import { OPTION_KEYS, OPTIONS, envName, kebabCase, type OptionKey } from '../../shared/options.js';
import { runCommand, UsageError, type SetCode } from '../exit.js';
import { renderUnit } from '../systemd-unit.js';

/** bin/rocket-cluster, from dist/cli/commands/. */
const BIN = fileURLToPath(new URL('../../../bin/rocket-cluster', import.meta.url));

/** Variables never written into a unit file, which any user may read. */
const SECRET_VARIABLES = new Set([envName('tlsPassphrase')]);

type StartupArgs = AppArgs & { readonly user?: string; readonly runAs?: string; readonly output?: string };

/**
 * `rocket-cluster startup systemd [app] [start options]`: a systemd unit that
 * runs `rocket-cluster start` in the foreground with the same app and
 * options. `--user` here means a user unit (`systemctl --user`), as in
 * systemctl; `start`'s own `--user NAME` is written `--run-as NAME`.
 */
export function startupCommand(setCode: SetCode): CommandModule<object, object> {
  return {
    command: 'startup',
    describe: 'Write a service unit that starts a cluster at boot (systemd)',
    builder: (y) => y.command(systemdCommand(setCode)).demandCommand(1, 'Name an init system: rocket-cluster startup systemd app.js'),
    handler: () => {},
  };
}

function systemdCommand(setCode: SetCode): CommandModule<object, StartupArgs> {
  return {
    command: 'systemd [app]',
    describe: 'Print (or --output) a systemd unit running `rocket-cluster start [app] [options]` in the foreground, Type=notify',
    builder: (y) => startupOptions(y),
    handler: (args) =>
      runCommand(setCode, async () => {
        if (args.user !== undefined && args.user !== '') {
          throw new UsageError(
            `--user takes no value here: it writes a user unit (systemctl --user). To run the cluster as ${JSON.stringify(args.user)}, write --run-as ${args.user}; the [app] goes before the options: rocket-cluster startup systemd app.js --user`,
          );
        }
        const userUnit = args.user === '';
        const flags: Record<string, unknown> = { ...args, user: args.runAs };
        const app = singleApp(await resolveApps(appRequest(flags as AppArgs)));
        const { config, sources } = app;
        if (userUnit && config.user !== undefined) {
          throw new UsageError(`a user unit runs as you, so it cannot switch to another user (${config.user}): leave out --user for a system unit, or --run-as (and ROCKET_USER, the config file's user) for a user unit`);
        }
        if (flags.tlsPassphrase !== undefined) {
          throw new UsageError('--tls-passphrase would be written into the unit, which every user may read: set ROCKET_TLS_PASSPHRASE in an EnvironmentFile= only root may read instead');
        }
        const cwd = process.cwd();
        const execStart = [process.execPath, BIN, 'start', ...appArgument(args.app, sources.app.kind, config.app), ...(args.config ? ['--config', path.resolve(cwd, args.config)] : []), ...startFlags(flags, cwd)];
        const variables = OPTION_KEYS.filter((k) => OPTIONS[k].env).map(envName);
        const present = [...variables, 'NODE_ENV'].filter((v) => process.env[v] !== undefined);
        const unit = renderUnit({
          ...{ name: config.name, app: config.app ?? `static files in ${config.static.map((m) => m.dir).join(', ')}`, execStart, workingDirectory: cwd, userUnit, runAs: config.user ?? null },
          environment: present.filter((v) => !SECRET_VARIABLES.has(v)).map((v) => [v, process.env[v]!] as const),
          omitted: present.filter((v) => SECRET_VARIABLES.has(v)),
          ...{ shutdownDelay: config.shutdownDelay, shutdownTimeout: config.shutdownTimeout, drainTimeout: config.drainTimeout, startTimeout: config.startTimeout },
        });
        if (args.output === undefined) {
          process.stdout.write(unit);
          return;
        }
        fs.writeFileSync(args.output, unit, { mode: 0o644 });
        const manager = userUnit ? 'systemctl --user' : 'systemctl';
        process.stdout.write(`wrote ${args.output}\n  then: ${manager} daemon-reload && ${manager} enable --now ${path.basename(args.output, '.service')}\n`);
      }),
  };
}

/** `[app]`, `--config`, `start`'s options (its `--user` as `--run-as`), and this command's `--user` and `--output`. */
function startupOptions(y: Argv<object>): Argv<StartupArgs> {
  const { user: runAs, ...flags } = optionFlags();
  return y
    .positional('app', { type: 'string', describe: `an app's name in the config file, or the path of an app module (as for start) [default: the config file's app]` })
    .option('config', { type: 'string', requiresArg: true, describe: `config file, written into ExecStart as an absolute path [default: ${CONFIG_FILE_NAMES.join(', ')} in the working directory, read at each start]` })
    .option('user', { type: 'string', describe: 'write a user unit (systemctl --user, WantedBy=default.target) instead of a system unit; takes no value' })
    .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: 'write the unit to this file (mode 0644) instead of printing it' })
    .option('run-as', { ...runAs, describe: `start's --user NAME, written --run-as here: ${OPTIONS.user.describe} (the unit runs as root, the cluster drops to NAME)` })
    .group(['user', 'output', 'run-as'], 'The unit:')
    .options(flags)
    .example('$0 startup systemd app.js --listen 0.0.0.0:80 --workers 4 --run-as www-data -o /etc/systemd/system/app.service', 'a system unit: binds :80 as root, then runs as www-data')
    .example('$0 startup systemd app.js --user > ~/.config/systemd/user/app.service', 'a user unit') as unknown as Argv<StartupArgs>;
}

/** The [app] as ExecStart gives it: a module path made absolute, or an app's name in the config file as typed. */
function appArgument(typed: string | undefined, source: string, resolved: string | undefined): string[] {
  if (typed === undefined || resolved === undefined) return [];
  return [source === 'argument' ? resolved : typed];
}

/**
 * The start options given on this command line, for ExecStart: the values as
 * checked (relative paths made absolute against the working directory), each
 * as `--flag value` (a list flag repeated, a boolean `--flag`/`--no-flag`).
 */
function startFlags(args: Readonly<Record<string, unknown>>, cwd: string): string[] {
  const layer = readFlags(args, cwd);
  const words: string[] = [];
  for (const key of OPTION_KEYS) {
    const value = layer[key]?.value;
    if (value === undefined) continue;
    const flag = `--${kebabCase(key as OptionKey)}`;
    if (typeof value === 'boolean') words.push(value ? flag : `--no-${kebabCase(key)}`);
    else for (const item of Array.isArray(value) ? value : [value]) words.push(...flagValue(flag, String(item)));
  }
  return words;
}

/** `--flag value`, or `--flag=value` for a value that would read as a flag. */
function flagValue(flag: string, value: string): string[] {
  return value.startsWith('-') ? [`${flag}=${value}`] : [flag, value];
}
