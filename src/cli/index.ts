import yargs from 'yargs';
import { startCommand } from './commands/start.js';

/** The CLI's only entry: parses argv, runs one command, returns its exit code (0 ok, 1 failure, 2 usage). */
export async function run(argv: readonly string[]): Promise<number> {
  let code = 0;
  const parser = yargs([...argv])
    .scriptName('rocket-cluster')
    .usage('$0 <command> [options]')
    .command(startCommand((c) => (code = c)))
    .demandCommand(1, 'Name a command, for example: rocket-cluster start app.js')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((message, error, y) => {
      if (error) throw error;
      void y;
      process.stderr.write(`rocket-cluster: ${message}\nRun rocket-cluster --help for usage.\n`);
      code = 2;
    });
  await parser.parseAsync();
  return code;
}
