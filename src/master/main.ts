import fs from 'node:fs';
import type { ClusterConfig } from '../shared/config.js';
import { RocketError } from '../shared/errors.js';
import type { MasterReady } from '../shared/protocol.js';
import { createLogger } from '../shared/logger.js';
import { ControlServer, type ControlHandlers } from '../control/server.js';
import { userRuntimeDirPath } from '../control/runtime-dir.js';
import { openLogSink, type LogSink } from '../logs/sink.js';
import { controlHandlers } from './control-handlers.js';
import { Master, type InheritedListeners } from './master.js';
import { upgradeTrigger } from './upgrade.js';
import type { ClusterEvent, StartOrigin } from '../shared/protocol.js';
import { chownTree, dropPrivileges, resolveIdentity, type Identity } from './privileges.js';
import { routeChildOutput, runChildrenAs } from './spawn.js';
import { underSystemd, type UnderSystemd } from './systemd.js';
import { clusterLogFiles } from '../shared/log-files.js';

export interface RunMasterOptions {
  /** Called once the cluster listens. */
  onReady?: (ready: MasterReady) => void;
  /** Called when the cluster cannot start, with why (it is also logged). */
  onStartFailed?: (error: RocketError) => void;
  /** `--listen` was set (flag, variable or config file), not left to its default: under socket activation, which passed socket serves which address. */
  listenGiven?: boolean;
  /**
   * A daemon cannot be managed without its control socket, so any failure to
   * open it fails the start. In the foreground (a container with a read-only
   * or missing HOME) a runtime directory that cannot be created only
   * disables the CLI's control; an unsafe one or a name in use still fails.
   */
  requireControl?: boolean;
  /** How the cluster was started: what a master upgrade resolves the new master's config from. Without it, upgrades are refused. */
  origin?: StartOrigin;
  /** Hears every worker, scale, reload and error event (the master forked by the programmatic API forwards them). */
  onEvent?: (event: ClusterEvent) => void;
  /** Receives, once the master exists, what the control socket's commands do: the programmatic API runs its commands through them. */
  onHandlers?: (handlers: ControlHandlers) => void;
  /** This is the new master of an upgrade: the old one's listening sockets, and when its control socket is free. */
  upgradeFrom?: UpgradeFrom;
}

export interface UpgradeFrom {
  readonly inherited: InheritedListeners;
  /** Resolves once the old master has closed its control socket: this one claims the name then. */
  readonly controlFree: Promise<void>;
  /** The master, as soon as it exists: connections the old one hands over go to it. */
  onMaster(master: Master): void;
}

/**
 * Runs a master in this process until it is stopped by SIGTERM or SIGINT
 * (graceful; a second signal kills at once), `rocket-cluster stop`, or the
 * control socket's `stop`; SIGHUP reloads the workers. Resolves with the exit code.
 */
export async function runMaster(config: ClusterConfig, options: RunMasterOptions = {}): Promise<number> {
  // Every line of the cluster (this master's, each child's stdout and stderr) goes
  // through the sink: stdout or rotating files, a ring for `logs`, followers.
  // Its last batch is written by a timer that keeps the process alive until then.
  let logs: LogSink;
  let identity: Identity | null;
  let systemd: UnderSystemd;
  let asStarted: ClusterConfig;
  try {
    // First: LISTEN_* and NOTIFY_SOCKET are this process's, and leave the environment before any child inherits it.
    systemd = underSystemd(config, options.listenGiven ?? true);
    asStarted = config;
    config = systemd.config;
    identity = resolveIdentity(config);
    logs = await openLogSink(config);
    // With --user, the cluster's log files are written (by workers too) and rotated by that user from now on.
    const files = clusterLogFiles(config);
    if (identity && files) chownTree(files.dir, identity);
  } catch (error) {
    const e = error as RocketError;
    process.stderr.write(`rocket-cluster: ${e.message}\n`);
    options.onStartFailed?.(e);
    return 1;
  }
  routeChildOutput(logs.attachChild);
  // The monitor and workers start as --user at once; the master follows once it has bound every address.
  runChildrenAs(identity);
  const log = createLogger('master', config.logLevel, { name: config.name }, logs.stream);
  // External logrotate: it moves the file away, sends SIGUSR1, and a new file of the same name starts.
  process.on('SIGUSR1', () => {
    logs.reopen();
    log.info({ file: logs.stats().file }, 'SIGUSR1: log file reopened');
  });
  const master = new Master(config, log, { stats: () => logs.stats(), childWritesFailed: (reason, dropped) => logs.childWritesFailed(reason, dropped) }, options.upgradeFrom?.inherited);
  options.upgradeFrom?.onMaster(master);
  if (options.origin) {
    const { origin } = options;
    const running = config;
    master.readConfigWith(async () => {
      const { resolveNamedApp } = await import('../config/resolve-apps.js');
      const fresh = await resolveNamedApp(origin, running.name);
      // What the master decided itself at start is not a change: the sockets systemd passed, a daemon's default log directory.
      const listen = JSON.stringify(fresh.listen) === JSON.stringify(asStarted.listen) ? running.listen : fresh.listen;
      return { ...fresh, listen, ...(fresh.logDir === undefined && running.logDir !== undefined ? { logDir: running.logDir } : {}) };
    });
  }
  if (options.onEvent) master.onEvent(options.onEvent);
  logs.onChildLogFile((file) => master.logFileChanged(file));
  systemd.attach(master, log);
  let stopRequested: (why: NodeJS.Signals | 'control') => void = () => {};
  const stopSignal = new Promise<NodeJS.Signals | 'control'>((resolve) => (stopRequested = resolve));
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      log.warn({ signal }, 'second signal: killing every process now');
      master.kill();
      return;
    }
    const delay = config.shutdownDelay;
    if (delay > 0) {
      // Still accepting and serving; only /readyz changes, so a load balancer stops sending before the listeners close.
      master.announceStop();
      log.info({ signal, delayMs: delay }, 'signal received: not ready any more, stopping gracefully after --shutdown-delay');
      setTimeout(() => stopRequested(signal), delay);
      return;
    }
    log.info({ signal }, 'signal received: stopping gracefully');
    stopRequested(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => void master.control.reload());
  process.on('SIGTTIN', () => master.control.scaleBy(1));
  process.on('SIGTTOU', () => master.control.scaleBy(-1));
  let control: ControlServer | null = null;
  const stopByCommand = async () => {
    signals++; // a signal after `rocket-cluster stop` kills, as a second signal does
    stopRequested('control');
    await master.stop();
  };
  // `rocket-cluster upgrade` and SIGUSR2: a new master takes over; `handedOn` resolves once this one has handed everything on.
  const { upgrade, handedOn } = upgradeTrigger({
    ...{ config, origin: options.origin, log, master },
    // Under systemd, the new master notifies in this one's place (READY=1 with MAINPID=), and this one falls silent.
    notifyEnv: () => systemd.notifyEnv(),
    silence: () => systemd.silence(),
    freeControl: () => {
      control?.close();
      control = null;
    },
  });
  process.on('SIGUSR2', () => void upgrade());
  // With --user started as root, the control socket and its directory are the user's (/run/rocket-cluster/UID): the
  // master must still reach them once it has dropped root. The new master of an upgrade, already that user, finds them.
  const controlOwner = identity && (process.getuid?.() === 0 || fs.existsSync(userRuntimeDirPath(identity.uid))) ? identity : null;
  const handlers = controlHandlers(master, logs, stopByCommand, upgrade);
  options.onHandlers?.(handlers);
  const openControl = async (): Promise<RocketError | null> => {
    try {
      control = await ControlServer.open(config.name, handlers, log, controlOwner);
      return null;
    } catch (error) {
      const e = error as RocketError;
      if (options.requireControl || !cannotCreate(e)) return e;
      log.warn({ code: e.code }, `no control socket, so rocket-cluster commands cannot reach this cluster (signals still work): ${e.message}`);
      return null;
    }
  };
  // The name is claimed before any process starts: a second cluster of the same name fails at once. The new master
  // of an upgrade claims it once the old one has let it go.
  const refused = options.upgradeFrom ? null : await openControl();
  if (refused) {
    log.error({ code: refused.code }, refused.message);
    options.onStartFailed?.(refused);
    return 1;
  }
  try {
    await master.start();
  } catch (error) {
    (control as ControlServer | null)?.close();
    if (signals > 0) {
      // Asked to stop while starting: the workers stopping is why the start did not complete.
      log.info('stopped while starting');
      return 0;
    }
    const e = error instanceof RocketError ? error : new RocketError('RC_ERR_WORKER_START', String(error));
    log.error({ code: e.code }, e.message);
    options.onStartFailed?.(e);
    return 1;
  }
  if (identity) {
    dropPrivileges(identity);
    log.info({ user: identity.user, uid: identity.uid, group: identity.group, gid: identity.gid }, 'every address bound: now running as an unprivileged user');
  } else if (process.getuid?.() === 0) {
    log.warn('running as root: the workers run the app as root too; start with --user to run every process as an unprivileged user once the addresses are bound');
  }
  // The new master of an upgrade takes over as the unit's main process.
  systemd.ready(options.upgradeFrom !== undefined);
  if (options.upgradeFrom) {
    const from = options.upgradeFrom;
    // Ready now (the old master starts handing over); the control socket follows once the old one has closed its own.
    options.onReady?.({ name: config.name, pid: process.pid, addresses: master.addresses, admin: master.adminUrl, control: null });
    void from.controlFree.then(async () => {
      const failed = await openControl();
      if (failed) log.error({ code: failed.code }, `after the upgrade, no control socket: ${failed.message}`);
      else if (control) log.info({ control: (control as ControlServer).path }, 'control socket ready');
    });
  } else {
    if (control) log.info({ control: (control as ControlServer).path }, 'control socket ready');
    options.onReady?.({ name: config.name, pid: process.pid, addresses: master.addresses, admin: master.adminUrl, control: (control as ControlServer | null)?.path ?? null });
  }
  const why = await Promise.race([stopSignal, handedOn.then(() => 'upgraded' as const)]);
  if (why !== 'upgraded') await master.stop();
  await systemd.close();
  await logs.settleFollowers(); // with log files, followers read the last lines before their streams end
  (control as ControlServer | null)?.close();
  return 0;
}

/** The runtime directory could not be made at all (no writable HOME), as opposed to one found unsafe. */
function cannotCreate(error: RocketError): boolean {
  const cause = error.cause as NodeJS.ErrnoException | undefined;
  return error.code === 'RC_ERR_CONTROL_DIR' && ['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR'].includes(cause?.code ?? '');
}
