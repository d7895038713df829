import type { ClusterConfig } from '../shared/config.js';
import { RocketError } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { Master } from './master.js';

/**
 * Runs a master in this process until it is stopped by SIGTERM or SIGINT
 * (graceful; a second signal kills at once); SIGHUP reloads the workers.
 * Resolves with the exit code.
 */
export async function runMaster(config: ClusterConfig): Promise<number> {
  const log = createLogger('master', config.logLevel, { name: config.name });
  const master = new Master(config, log);
  let stopRequested: (signal: NodeJS.Signals) => void = () => {};
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => (stopRequested = resolve));
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      log.warn({ signal }, 'second signal: killing every process now');
      master.kill();
      return;
    }
    log.info({ signal }, 'signal received: stopping gracefully');
    stopRequested(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => void master.reload());
  process.on('SIGTTIN', () => master.scaleBy(1));
  process.on('SIGTTOU', () => master.scaleBy(-1));
  try {
    await master.start();
  } catch (error) {
    const e = error instanceof RocketError ? error : new RocketError('RC_ERR_WORKER_START', String(error));
    log.error({ code: e.code }, e.message);
    return 1;
  }
  await stopSignal;
  await master.stop();
  return 0;
}
