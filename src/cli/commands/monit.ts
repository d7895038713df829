import { setTimeout as delay } from 'node:timers/promises';
import type { CommandModule } from 'yargs';
import { controlRequest } from '../../control/client.js';
import { runCommand, type SetCode } from '../exit.js';
import { renderMonitFrame, sampleOf, type MonitSample } from '../render/monit-view.js';
import { oneTarget } from '../targets.js';

interface MonitArgs {
  name?: string;
  interval: number;
  count?: number;
}

const CLEAR = '\x1b[H\x1b[2J';

/** `rocket-cluster monit [name]`: a live view, redrawn every interval until q or Ctrl-C. */
export function monitCommand(setCode: SetCode): CommandModule<object, MonitArgs> {
  return {
    command: 'monit [name]',
    describe: 'A live terminal view of a cluster: pool size, queue depth, parked sockets and req/s per worker (q or Ctrl-C quits)',
    builder: (y) =>
      y
        .positional('name', { type: 'string', describe: 'a cluster name [default: the only running cluster]' })
        .option('interval', { type: 'number', default: 1000, describe: 'ms between frames (at least 100)' })
        .option('count', { type: 'number', describe: 'draw this many frames, then exit (for scripts) [default: until quit]' })
        .check((a) => {
          if (!Number.isInteger(a.interval) || a.interval < 100) throw new Error(`--interval ${a.interval}: expected an integer of at least 100 (ms)`);
          if (a.count !== undefined && (!Number.isInteger(a.count) || a.count < 1)) throw new Error(`--count ${a.count}: expected an integer of at least 1`);
          return true;
        }),
    handler: (args) =>
      runCommand(setCode, async () => {
        const name = await oneTarget(args.name);
        const tty = process.stdout.isTTY === true;
        const quit = new AbortController();
        const stopKeys = tty && process.stdin.isTTY ? listenForQuit(quit) : () => {};
        const onSignal = () => quit.abort();
        process.once('SIGINT', onSignal);
        try {
          let previous: MonitSample | null = null;
          for (let frame = 0; args.count === undefined || frame < args.count; frame++) {
            if (frame > 0 && !(await sleep(args.interval, quit.signal))) break;
            const result = await controlRequest(name, 'status', {}, { timeoutMs: 5000 });
            const now = sampleOf(result, Date.now());
            const text = renderMonitFrame(result, now, previous);
            process.stdout.write(tty ? `${CLEAR}${text}\n(q to quit)\n` : `${text}\n\n`);
            previous = now;
          }
        } finally {
          stopKeys();
          process.off('SIGINT', onSignal);
        }
      }),
  };
}

/** Resolves false if aborted first (the timer removes its own abort listener, frame after frame). */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return delay(ms, true, { signal }).catch(() => false);
}

/** Raw keys on a terminal: q or Ctrl-C quits. Returns the undo. */
function listenForQuit(quit: AbortController): () => void {
  const stdin = process.stdin;
  const onKey = (key: Buffer) => {
    if (key[0] === 0x71 || key[0] === 0x03) quit.abort();
  };
  stdin.setRawMode(true);
  stdin.resume();
  stdin.on('data', onKey);
  return () => {
    stdin.off('data', onKey);
    stdin.setRawMode(false);
    stdin.pause();
  };
}
