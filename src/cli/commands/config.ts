import type { CommandModule } from 'yargs';
import { appRequest, withAppOptions, type AppArgs } from '../../config/cli.js';
import { configReport, formatConfigReport } from '../../config/report.js';
import { resolveApps } from '../../config/resolve-apps.js';
import { runCommand, type SetCode } from '../exit.js';

interface ConfigArgs extends AppArgs {
  readonly json?: boolean;
}

/**
 * `rocket-cluster config [app]`: the effective config of each app (defaults,
 * config file, ROCKET_* variables and flags merged, as `start` would run it)
 * and where each value came from. Takes the same flags as `start`.
 */
export function configCommand(setCode: SetCode): CommandModule<object, ConfigArgs> {
  return {
    command: 'config [app]',
    describe: 'Print the effective config of each app and where each value came from',
    builder: (y) =>
      withAppOptions(y)
        .option('json', { type: 'boolean', describe: 'print JSON, for scripts' })
        .example('$0 config', 'the apps of rocket.config.* in this directory')
        .example('ROCKET_WORKERS=4 $0 config api --listen 0.0.0.0:8080 --json', 'what `start api` would run with these settings, as JSON'),
    handler: (args) =>
      runCommand(setCode, async () => {
        const resolved = await resolveApps(appRequest(args));
        process.stdout.write(args.json ? `${JSON.stringify(configReport(resolved), null, 2)}\n` : formatConfigReport(resolved));
      }),
  };
}
