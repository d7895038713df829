import fs from 'node:fs';
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { controlRequest } from '../../control/client.js';
import { MAX_LOG_LINES } from '../../shared/control-protocol.js';
import { RocketError } from '../../shared/errors.js';
import { SYSTEM_LOG_DIR, defaultLogDir } from '../daemon.js';
import { tailFile } from '../../logs/file-tail.js';
import { runCommand, type SetCode } from '../exit.js';
import { logLinePrinter } from '../render/log-lines.js';
import { oneTarget } from '../targets.js';

interface LogsArgs {
  name?: string;
  lines: number;
  follow?: boolean;
  json?: boolean;
  logDir?: string;
}

/** `rocket-cluster logs [name]`: the master's, monitor's and every worker's lines, merged in the order the master received them. */
export function logsCommand(setCode: SetCode): CommandModule<object, LogsArgs> {
  return {
    command: 'logs [name]',
    describe: "Print a cluster's recent log lines (master, monitor and every worker, merged); --follow keeps printing new ones",
    builder: (y) =>
      y
        .positional('name', { type: 'string', describe: 'a cluster name [default: the only running cluster]' })
        .option('lines', { type: 'number', alias: 'n', default: 50, describe: `recent lines to print first (at most ${MAX_LOG_LINES})` })
        .option('follow', { type: 'boolean', alias: 'f', describe: 'keep printing new lines until Ctrl-C or the cluster stops' })
        .option('json', { type: 'boolean', describe: 'print the raw JSON lines even on a terminal' })
        .option('log-dir', { type: 'string', describe: "where a stopped daemon's files are read from [default: ~/.rocket-cluster/logs, then /var/log/rocket-cluster]" })
        .check((a) => {
          if (!Number.isInteger(a.lines) || a.lines < 0 || a.lines > MAX_LOG_LINES) throw new Error(`--lines ${a.lines}: expected an integer from 0 to ${MAX_LOG_LINES}`);
          return true;
        })
        .example('$0 logs api --lines 200', 'the last 200 lines')
        .example('$0 logs api -f', 'follow, as tail -f does'),
    handler: (args) =>
      runCommand(setCode, async () => {
        const name = await oneTarget(args.name);
        const print = await logLinePrinter(process.stdout, args.json !== true && process.stdout.isTTY === true);
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          await controlRequest(name, 'logs', { lines: args.lines, follow: args.follow === true }, { onLine: print, signal: stop.signal });
        } catch (error) {
          if (stop.signal.aborted) return; // Ctrl-C ends a follow: not a failure
          // A stopped daemon's lines are still in its files.
          const dirs = args.logDir === undefined ? [defaultLogDir(), SYSTEM_LOG_DIR] : [args.logDir];
          const file = dirs.map((dir) => path.join(dir, name, 'current.log')).find((f) => fs.existsSync(f));
          const notRunning = error instanceof RocketError && error.code === 'RC_ERR_CONTROL_NOT_RUNNING';
          if (!notRunning || args.follow || file === undefined) throw error;
          process.stderr.write(`rocket-cluster: ${name} is not running; the last lines of ${file}:\n`);
          for (const line of await tailFile(file, args.lines)) print(line);
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }),
  };
}
