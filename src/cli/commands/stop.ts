import type { CommandModule } from 'yargs';
import { controlRequest } from '../../control/client.js';
import { runCommand, type SetCode } from '../exit.js';
import { targets } from '../targets.js';

interface StopArgs {
  name?: string;
}

/** `rocket-cluster stop [name|all]`: a graceful stop; returns once the cluster has stopped. */
export function stopCommand(setCode: SetCode): CommandModule<object, StopArgs> {
  return {
    command: 'stop [name]',
    describe: 'Stop a cluster gracefully (in-flight requests finish, queued ones are served); waits until it has stopped',
    builder: (y) =>
      y
        .positional('name', { type: 'string', describe: 'a cluster name, or "all" [default: the only running cluster]' })
        .example('$0 stop api', 'stop the cluster named api')
        .example('$0 stop all', 'stop every running cluster'),
    handler: (args) =>
      runCommand(setCode, async () => {
        const names = await targets(args.name);
        if (names.length === 0) process.stdout.write('no cluster is running\n');
        // One after another: each stop is graceful and bounded by that cluster's --shutdown-timeout.
        for (const name of names) {
          const { pid } = await controlRequest(name, 'stop', {});
          process.stdout.write(`stopped ${name} (pid ${pid})\n`);
        }
      }),
  };
}
