import type { ControlHandlers } from '../control/server.js';
import { RocketError } from '../shared/errors.js';
import type { Master } from './master.js';
import type { UpgradeOutcome } from './upgrade.js';
import { sampleUsage } from './usage.js';

/** What each control command does to this master. `stop` resolves once the cluster has stopped. */
export function controlHandlers(master: Master, logs: ControlHandlers['logs'], stop: () => Promise<void>, upgrade: () => Promise<UpgradeOutcome>): ControlHandlers {
  return {
    async status() {
      const status = master.status();
      const pids = [status.pid, status.monitor.pid, ...status.workers.map((w) => w.pid)].filter((p): p is number => p !== null);
      return { status, usage: await sampleUsage(pids) };
    },
    async reload() {
      const outcome = await master.control.reload();
      if (!outcome.done) throw new RocketError('RC_ERR_CONTROL_REFUSED', `reload not done: ${outcome.reason}`);
      const workers = master.status().workers.filter((w) => w.generation === outcome.generation).length;
      return { generation: outcome.generation, workers, applied: outcome.applied, needsUpgrade: outcome.needsUpgrade };
    },
    async upgrade() {
      const outcome = await upgrade();
      if (!outcome.done) throw new RocketError('RC_ERR_CONTROL_REFUSED', `upgrade not done: ${outcome.reason}`);
      return { pid: outcome.pid };
    },
    scale: (change) => master.control.scaleTo(change),
    async stop() {
      await stop();
      return { pid: process.pid };
    },
    logs,
  };
}
