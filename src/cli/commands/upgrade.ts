import type { CommandModule } from 'yargs';
import { controlRequest } from '../../control/client.js';
import { runCommand, type SetCode } from '../exit.js';
import { oneTarget } from '../targets.js';

interface UpgradeArgs {
  name?: string;
}

/** `rocket-cluster upgrade [name]`: a new master from the code and config on disk takes over without closing a listener. */
export function upgradeCommand(setCode: SetCode): CommandModule<object, UpgradeArgs> {
  return {
    command: 'upgrade [name]',
    describe:
      'Replace the master itself with one started from the rocket-cluster code and config on disk now: it inherits the listening sockets (nothing is rebound, no connection refused), and the old master hands it every idle and parked connection, finishes what is in flight and exits. Returns once the new master is ready (SIGUSR2 does the same)',
    builder: (y) =>
      y
        .positional('name', { type: 'string', describe: 'a cluster name [default: the only running cluster]' })
        .example('$0 upgrade api', 'after `npm install rocket-cluster@latest`, or a change to --listen or the pool settings in the config file'),
    handler: (args) =>
      runCommand(setCode, async () => {
        const name = await oneTarget(args.name);
        const { pid } = await controlRequest(name, 'upgrade', {});
        process.stdout.write(`upgraded ${name}: new master pid ${pid}; the old one hands over its connections and exits\n`);
      }),
  };
}
