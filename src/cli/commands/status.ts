import type { CommandModule } from 'yargs';
import { clusterNames, controlRequest } from '../../control/client.js';
import type { StatusResult } from '../../shared/control-protocol.js';
import { RocketError } from '../../shared/errors.js';
import { runCommand, type SetCode } from '../exit.js';
import { renderStatusTable } from '../render/status-table.js';

interface StatusArgs {
  name?: string;
  json?: boolean;
}

const TIMEOUT_MS = 5000;

/** `rocket-cluster status [name]` (also `list`, `ls`): every process of one cluster or of all. */
export function statusCommand(setCode: SetCode): CommandModule<object, StatusArgs> {
  return {
    command: 'status [name]',
    aliases: ['list', 'ls'],
    describe: 'Show every process of the running clusters (or of one): pid, role, generation, state, uptime, restarts, CPU, memory, connections, requests',
    builder: (y) =>
      y
        .positional('name', { type: 'string', describe: 'a cluster name [default: all running clusters]' })
        .option('json', { type: 'boolean', describe: 'print the full status as JSON (an array without a name)' })
        .example('$0 list', 'a table of every running cluster')
        .example('$0 status api --json', "api's full status for scripts"),
    handler: (args) =>
      runCommand(setCode, async () => {
        if (args.name !== undefined) {
          const result = await controlRequest(args.name, 'status', {}, { timeoutMs: TIMEOUT_MS });
          print([result], args.json === true, false);
          return;
        }
        const results: StatusResult[] = [];
        for (const name of await clusterNames()) {
          try {
            results.push(await controlRequest(name, 'status', {}, { timeoutMs: TIMEOUT_MS }));
          } catch (error) {
            // A socket left by a cluster that died is not a running cluster.
            if (!(error instanceof RocketError && error.code === 'RC_ERR_CONTROL_NOT_RUNNING')) throw error;
          }
        }
        print(results, args.json === true, true);
      }),
  };
}

function print(results: StatusResult[], json: boolean, asList: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(asList ? results : results[0], null, 2)}\n`);
    return;
  }
  if (results.length === 0) {
    process.stdout.write('no cluster is running\n');
    return;
  }
  process.stdout.write(`${renderStatusTable(results, process.stdout.isTTY === true)}\n`);
}
