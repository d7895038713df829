import { holdYoungGeneration } from '../shared/small-heap.js';
import type { DaemonStart, DaemonToCli } from '../shared/protocol.js';

/**
 * The entry of a daemonized master (`start --daemon`): its parent, the CLI,
 * sends the resolved config (and how it was resolved, for upgrades) over IPC and waits for one answer (DaemonToCli):
 * `ready` with the addresses, or `failed` with the reason. Then the channel
 * is closed and the master lives on its own, in its own session.
 */

// First, before the master's modules load: a small young generation (see small-heap.ts).
holdYoungGeneration();

process.once('message', ({ config, origin }: DaemonStart) => {
  const answer = (m: DaemonToCli) => {
    if (!process.connected) return;
    process.send?.(m, () => process.disconnect());
  };
  // Loaded only now, after small-heap.js: the listener is in place before the config can arrive.
  void import('./main.js')
    .then(({ runMaster }) =>
      runMaster(config, {
        requireControl: true,
        origin,
        onReady: (ready) => answer({ t: 'ready', ready }),
        onStartFailed: (error) => answer({ t: 'failed', code: error.code, message: error.message }),
      }),
    )
    .then((code) => {
      process.exitCode = code;
    });
});
