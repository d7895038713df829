import type { ClusterConfig } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { statusLine, takeNotifyTarget, watchSystemd, type NotifySource, type SystemdNotifier } from './sd-notify.js';
import { describePassed, useSocketActivation } from './socket-activation.js';

/**
 * What runMaster does for systemd, in one place: socket activation
 * (socket-activation.ts) and sd_notify (sd-notify.ts). Both read variables
 * the service manager set for the master alone, so both are taken from the
 * environment before any child starts, and removed from it.
 */
export interface UnderSystemd {
  /** The config to run: its `listen` is the passed sockets' own when socket activation serves them all. */
  readonly config: ClusterConfig;
  /** Once the master exists: logs what was adopted, and follows its state for systemd. */
  attach(master: NotifySource, log: Logger): void;
  /**
   * READY=1: every address listens and the minimum of workers is ready (after
   * `start`); `mainPid` for the new master of an upgrade, which becomes the
   * service's main process.
   */
  ready(mainPid?: boolean): void;
  /** For a master upgrade: NOTIFY_SOCKET and WATCHDOG_USEC for the new master's environment (empty when not under systemd). */
  notifyEnv(): Record<string, string>;
  /** A master upgrade handed over: this master notifies nothing more (no STOPPING=1 as it leaves). */
  silence(): void;
  /** Stops the watchdog pings and waits for messages still on their way. */
  close(): Promise<void>;
}

/**
 * Reads LISTEN_* and NOTIFY_SOCKET/WATCHDOG_*; throws (RC_ERR_LISTEN_BIND) when
 * the passed sockets and `--listen` do not fit. `listenGiven`: --listen was set
 * by a flag, a variable or the config file, not left to its default.
 */
export function underSystemd(config: ClusterConfig, listenGiven: boolean): UnderSystemd {
  const { config: served, activation } = useSocketActivation(config, listenGiven);
  const target = takeNotifyTarget();
  let notifier: SystemdNotifier | null = null;
  let source: NotifySource | null = null;
  return {
    config: served,
    attach(master, log) {
      if (activation) {
        log.info({ sockets: activation.sockets.map(describePassed) }, 'socket activation: serving the sockets systemd passed, binding nothing');
        for (const note of activation.notes) log.warn(note);
      }
      source = master;
      if (target) notifier = watchSystemd(target, master, log);
    },
    ready(mainPid = false) {
      if (notifier && source) notifier.ready(statusLine(source.status()), mainPid);
    },
    notifyEnv() {
      if (!target) return {};
      return { NOTIFY_SOCKET: target.socket, ...(target.watchdogUsec === null ? {} : { WATCHDOG_USEC: String(target.watchdogUsec) }) };
    },
    silence() {
      notifier?.silence();
    },
    close: async () => notifier?.close(),
  };
}
