import type { ClusterConfig } from '../shared/config.js';
import type { DaemonToCli } from '../shared/protocol.js';
import { runMaster } from './main.js';

/**
 * The entry of a daemonized master (`start --daemon`): its parent, the CLI,
 * sends the resolved config over IPC and waits for one answer (DaemonToCli):
 * `ready` with the addresses, or `failed` with the reason. Then the channel
 * is closed and the master lives on its own, in its own session.
 */

process.once('message', (config: ClusterConfig) => {
  const answer = (m: DaemonToCli) => {
    if (!process.connected) return;
    process.send?.(m, () => process.disconnect());
  };
  void runMaster(config, {
    requireControl: true,
    onReady: (ready) => answer({ t: 'ready', ready }),
    onStartFailed: (error) => answer({ t: 'failed', code: error.code, message: error.message }),
  }).then((code) => {
    process.exitCode = code;
  });
});
