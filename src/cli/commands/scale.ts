import type { CommandModule } from 'yargs';
import { controlRequest } from '../../control/client.js';
import { MAX_WORKERS } from '../../shared/defaults.js';
import { UsageError, runCommand, type SetCode } from '../exit.js';

interface ScaleArgs {
  name: string;
  count: string;
}

/** `N` sets the pool's size; `+N` / `-N` change it relative to the live workers. */
export function parseScaleCount(text: string): { to: number } | { by: number } {
  const match = /^([+-]?)(\d{1,4})$/.exec(text);
  if (!match) throw new UsageError(`scale count "${text}": expected N, +N or -N, for example 4, +2 or -1`);
  const n = Number(match[2]);
  if (n > MAX_WORKERS) throw new UsageError(`scale count "${text}": a pool has at most ${MAX_WORKERS} workers`);
  if (match[1] === '') {
    if (n < 1) throw new UsageError(`scale count "${text}": a pool has at least 1 worker`);
    return { to: n };
  }
  return { by: match[1] === '-' ? -n : n };
}

/** `rocket-cluster scale <name> <N|+N|-N>`. */
export function scaleCommand(setCode: SetCode): CommandModule<object, ScaleArgs> {
  return {
    command: 'scale <name> <count>',
    describe: "Set the pool's size now: N workers, or +N / -N from the live ones. N becomes the pool's minimum; the autoscaler may still grow it up to its maximum (raised to N if below)",
    builder: (y) =>
      y
        .positional('name', { type: 'string', demandOption: true, describe: 'a cluster name' })
        .positional('count', { type: 'string', demandOption: true, describe: 'N, +N or -N' })
        .example('$0 scale api 4', 'run api with 4 workers')
        .example('$0 scale api +2', 'two workers more'),
    handler: (args) =>
      runCommand(setCode, async () => {
        const change = parseScaleCount(String(args.count));
        const { workers, min, max } = await controlRequest(args.name, 'scale', change, { timeoutMs: 10_000 });
        process.stdout.write(`scaled ${args.name} to ${workers} worker${workers === 1 ? '' : 's'} (min ${min}, max ${max})\n`);
      }),
  };
}
