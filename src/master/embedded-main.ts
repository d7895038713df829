import { holdYoungGeneration } from '../shared/small-heap.js';
import { RocketError } from '../shared/errors.js';
import { assertNever, type ApiCommand, type ApiToMaster, type MasterToApi } from '../shared/protocol.js';
import type { ControlHandlers } from '../control/server.js';

/**
 * The entry of a master forked by the programmatic API (src/api/): its parent
 * is the caller's process. It sends the resolved config (ApiToMaster `start`),
 * gets `ready` or `failed`, then every cluster event as it happens, and may
 * send commands, which run through the same handlers as the control socket's.
 *
 * Tied to its caller: when the IPC channel closes (the caller exited, crashed
 * or was killed, even with SIGKILL) the cluster stops gracefully, unless it
 * was started `detached`, when it lives on like a daemon. The caller owns the
 * signals: this master runs in its own session (see src/api/start-cluster.ts),
 * so a Ctrl-C in the caller's terminal reaches the caller, not the cluster.
 */

// First, before the master's modules load: a small young generation (see small-heap.ts).
holdYoungGeneration();

let handlers: ControlHandlers | null = null;
let detached = false;
/** The caller is gone and the cluster is not detached: stop as soon as the master can be stopped. */
let orphaned = false;
let stopping: Promise<unknown> | null = null;

const send = (m: MasterToApi): void => {
  if (process.connected) process.send?.(m);
};

function stop(): Promise<unknown> {
  if (!handlers) return Promise.resolve();
  stopping ??= handlers.stop();
  return stopping;
}

process.on('message', (m: ApiToMaster) => {
  switch (m.t) {
    case 'start':
      detached = m.detached;
      void start(m.config);
      break;
    case 'request':
      void answer(m.id, m.command);
      break;
    default:
      assertNever(m);
  }
});

process.on('disconnect', () => {
  if (detached) return;
  orphaned = true;
  void stop();
});

async function start(config: Extract<ApiToMaster, { t: 'start' }>['config']): Promise<void> {
  // Loaded only now, after small-heap.js: the listener is in place before the config can arrive.
  const { runMaster } = await import('./main.js');
  const code = await runMaster(config, {
    // Without a control socket a detached cluster could not be managed once its caller is gone.
    requireControl: detached,
    onReady: (ready) => send({ t: 'ready', ready }),
    onStartFailed: (error) => send({ t: 'failed', code: error.code, message: error.message }),
    onEvent: (event) => send({ t: 'event', event }),
    onHandlers: (h) => {
      handlers = h;
      if (orphaned) void stop();
    },
  });
  process.exitCode = code;
  // The last message goes out before the channel closes (a close would cancel a write still queued).
  if (process.connected) process.send?.({ t: 'exiting', code } satisfies MasterToApi, () => process.disconnect());
}

async function answer(id: number, command: ApiCommand): Promise<void> {
  try {
    if (!handlers) throw new RocketError('RC_ERR_CONTROL_REFUSED', 'the cluster is not started');
    send({ t: 'reply', id, ok: true, result: await run(handlers, command) });
  } catch (error) {
    const e = error instanceof RocketError ? error : new RocketError('RC_ERR_CONTROL_REFUSED', String(error));
    send({ t: 'reply', id, ok: false, code: e.code, message: e.message });
  }
}

async function run(h: ControlHandlers, command: ApiCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'status':
      return h.status();
    case 'reload':
      return h.reload();
    case 'scale':
      return h.scale({ to: command.to });
    case 'stop':
      return stop();
    default:
      return assertNever(command);
  }
}
