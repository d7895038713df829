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
    describe:
      'Replace the workers one at a time with the app and its config read again from disk (env, node args, cwd, certificates), without dropping a connection; waits until done',
    builder: (y) =>
      y
        .positional('name', { type: 'string', describe: 'a cluster name [default: the only running cluster]' })
        .example('$0 reload api', 'deploy new code to api with zero downtime'),
    handler: (args) =>
      runCommand(setCode, async () => {
        const name = await oneTarget(args.name);
        const { generation, workers, applied, needsUpgrade } = await controlRequest(name, 'reload', {});
        process.stdout.write(`reloaded ${name}: generation ${generation}, ${workers} worker${workers === 1 ? '' : 's'}\n`);
        if (applied.length > 0) process.stdout.write(`  from the config: ${applied.join(', ')}\n`);
        if (needsUpgrade.length > 0) {
          process.stdout.write(`  changed, but only a new master applies it: ${needsUpgrade.join(', ')}: run rocket-cluster upgrade ${name} (or restart)\n`);
        }
      }),
  };
}
