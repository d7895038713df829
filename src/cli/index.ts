import yargs from 'yargs';
import { configCommand } from './commands/config.js';
import { logsCommand } from './commands/logs.js';
import { monitCommand } from './commands/monit.js';
import { reloadCommand } from './commands/reload.js';
import { upgradeCommand } from './commands/upgrade.js';
import { scaleCommand } from './commands/scale.js';
import { startCommand } from './commands/start.js';
import { startupCommand } from './commands/startup.js';
import { statusCommand } from './commands/status.js';
import { stopCommand } from './commands/stop.js';

/** The CLI's only entry: parses argv, runs one command, returns its exit code (0 ok, 1 failure, 2 usage). */
export async function run(argv: readonly string[]): Promise<number> {
  let code = 0;
  const setCode = (c: number) => (code = c);
  const parser = yargs([...argv])
    .scriptName('rocket-cluster')
    .usage('$0 <command> [options]')
    .command(startCommand(setCode))
    .command(configCommand(setCode))
    .command(startupCommand(setCode))
    .command(stopCommand(setCode))
    .command(reloadCommand(setCode))
    .command(upgradeCommand(setCode))
    .command(scaleCommand(setCode))
    .command(statusCommand(setCode))
    .command(logsCommand(setCode))
    .command(monitCommand(setCode))
    .demandCommand(1, 'Name a command, for example: rocket-cluster start app.js')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((message, error, y) => {
      // yargs' own parse errors (a flag without its value) are usage errors too; any other error is a bug to show whole.
      if (error && error.name !== 'YError') throw error;
      void y;
      process.stderr.write(`rocket-cluster: ${message ?? error?.message}\nRun rocket-cluster --help for usage.\n`);
      // Throwing stops yargs here: a fail handler that returns lets the command's handler run anyway (an unknown flag would still start a cluster).
      throw new UsageFailed(message ?? error?.message);
    });
  try {
    await parser.parseAsync();
  } catch (error) {
    if (error instanceof UsageFailed) return 2;
    throw error;
  }
  return code;
}

class UsageFailed extends Error {}
