import type { CommandModule } from 'yargs';
import { controlRequest } from '../../control/client.js';
import { runCommand, type SetCode } from '../exit.js';
import { oneTarget } from '../targets.js';

interface ReloadArgs {
  name?: string;
}

/** `rocket-cluster reload [name]`: a rolling reload; returns when it is complete. */
export function reloadCommand(setCode: SetCode): CommandModule<object, ReloadArgs> {
  return {
    command: 'reload [name]',
    describe: 'Replace the workers one at a time with the app read again from disk, without dropping a connection; waits until done',
    builder: (y) =>
      y
        .positional('name', { type: 'string', describe: 'a cluster name [default: the only running cluster]' })
        .example('$0 reload api', 'deploy new code to api with zero downtime'),
    handler: (args) =>
      runCommand(setCode, async () => {
        const name = await oneTarget(args.name);
        const { generation, workers } = await controlRequest(name, 'reload', {});
        process.stdout.write(`reloaded ${name}: generation ${generation}, ${workers} worker${workers === 1 ? '' : 's'}\n`);
      }),
  };
}
