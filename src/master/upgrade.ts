import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Channel } from '../shared/channel.js';
import type { ClusterConfig } from '../shared/config.js';
import { DEFAULTS } from '../shared/defaults.js';
import type { Logger } from '../shared/logger.js';
import { closeHandle, type NativeHandle } from '../shared/node-internals/handles.js';
import type { NewToOldMaster, OldToNewMaster, StartOrigin } from '../shared/protocol.js';
import type { PendingConnection } from './queue.js';

const ENTRY = fileURLToPath(new URL('./upgrade-main.js', import.meta.url));
/** Beyond --start-timeout: the new master loads its code and resolves its config before its workers start. */
const READY_MARGIN_MS = 10_000;

export type UpgradeOutcome = { readonly done: true; readonly pid: number } | { readonly done: false; readonly reason: string };

/** What the old master lends the upgrade: its sockets, and how to hand everything else over. */
export interface UpgradeParts {
  readonly config: ClusterConfig;
  readonly origin: StartOrigin;
  readonly log: Logger;
  /** Added to the new master's environment (systemd's NOTIFY_SOCKET, which this master took out of its own). */
  readonly env: Readonly<Record<string, string>>;
  /** The listen addresses as bound, in --listen order. */
  addresses(): readonly string[];
  /** The listening sockets, in --listen order, and the admin one (null without --admin). */
  listeners(): { readonly listen: readonly NativeHandle[]; readonly admin: NativeHandle | null };
  /**
   * The new master is ready: stop accepting, send every connection that would
   * wait or park here to `handOver`, retire the workers, release the parked
   * sockets. Resolves once nothing is left (workers and monitor gone).
   */
  handOut(handOver: (item: PendingConnection) => void): Promise<void>;
  /** Closes this master's control socket, so that the new master can claim the cluster's name. */
  freeControl(): void;
}

/**
 * The old master's side of `rocket-cluster upgrade` (SIGUSR2): forks a new
 * master from the code on disk, lends it every listening socket (nothing is
 * rebound, no connection refused), waits until its workers and monitor are
 * ready, then hands it every idle, parked and queued connection while its own
 * workers finish what is in flight. If the new master does not get ready, it
 * is stopped and this one goes on serving as before.
 */
export class MasterUpgrade {
  readonly #p: UpgradeParts;
  #child: ChildProcess | null = null;
  #channel: Channel<NewToOldMaster, OldToNewMaster> | null = null;
  #answer: ((m: NewToOldMaster | { t: 'exit'; why: string }) => void) | null = null;

  constructor(parts: UpgradeParts) {
    this.#p = parts;
  }

  /** Resolves once the new master is ready (then the hand-over runs on: `finished`) or has failed. */
  async start(): Promise<UpgradeOutcome> {
    const { config, origin, log } = this.#p;
    const child = spawn(process.execPath, [...process.execArgv, ENTRY], {
      env: { ...process.env, ...this.#p.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    this.#child = child;
    const answered = new Promise<NewToOldMaster | { t: 'exit'; why: string }>((resolve) => (this.#answer = resolve));
    child.once('exit', (code, signal) => this.#answer?.({ t: 'exit', why: `the new master exited before it was ready (code ${code}, signal ${signal})` }));
    child.once('error', (error) => this.#answer?.({ t: 'exit', why: `the new master could not be started: ${error.message}` }));
    const channel = new Channel<NewToOldMaster, OldToNewMaster>(child, (m) => this.#receive(m), {
      ackTimeout: DEFAULTS.ackTimeout,
      reclaim: (_m, handle) => closeHandle(handle),
    });
    this.#channel = channel;
    const { listen, admin } = this.#p.listeners();
    log.info({ newMasterPid: child.pid }, 'upgrade: new master started');
    const addresses = this.#p.addresses();
    channel.post({ t: 'start', name: config.name, origin, ...(config.logDir === undefined ? {} : { logDir: config.logDir }), addresses, admin: admin !== null });
    for (const [index, handle] of listen.entries()) void channel.shareHandle({ t: 'listener', index }, handle);
    if (admin) void channel.shareHandle({ t: 'listener', index: -1 }, admin);
    const timer = setTimeout(() => this.#answer?.({ t: 'exit', why: `the new master was not ready within ${config.startTimeout + READY_MARGIN_MS} ms` }), config.startTimeout + READY_MARGIN_MS);
    const answer = await answered;
    clearTimeout(timer);
    this.#answer = null;
    if (answer.t === 'ready') return { done: true, pid: answer.pid };
    const reason = answer.t === 'failed' ? answer.message : answer.t === 'exit' ? answer.why : 'the new master answered out of turn';
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    channel.close();
    return { done: false, reason };
  }

  /** After a `start` that succeeded: hands everything over, frees the name, and resolves once this master can exit. */
  async finish(): Promise<void> {
    const channel = this.#channel;
    if (!channel) return;
    const { log } = this.#p;
    const sent: Promise<unknown>[] = [];
    const handOver = (item: PendingConnection) => {
      const message: OldToNewMaster = { t: 'conn', ...(item.head === undefined || item.head === '' ? {} : { head: item.head }), ...(item.listener === undefined ? {} : { listener: item.listener }) };
      sent.push(channel.sendHandle(message, item.handle));
    };
    const out = this.#p.handOut(handOver);
    this.#p.freeControl();
    channel.post({ t: 'control-free' });
    await out;
    // Sent one at a time, each acknowledged: done once every one is the new master's (or closed, if it died meanwhile).
    await Promise.all(sent);
    log.info({ handedOver: sent.length, newMasterPid: this.#child?.pid }, 'upgrade complete: every connection handed to the new master');
    channel.post({ t: 'done' });
    channel.close();
    this.#child?.disconnect();
    this.#child?.unref();
  }

  #receive(m: NewToOldMaster): boolean {
    if (m.t === 'ack') return true;
    this.#answer?.(m);
    return true;
  }
}

/** What `upgradeTrigger` needs of the running master and its surroundings. */
export interface UpgradeTriggerParts {
  readonly config: ClusterConfig;
  /** How the cluster was started; without it (not started by the CLI) upgrades are refused. */
  readonly origin: StartOrigin | undefined;
  readonly log: Logger;
  readonly master: {
    readonly running: boolean;
    readonly addresses: readonly string[];
    upgradeListeners(): { readonly listen: readonly NativeHandle[]; readonly admin: NativeHandle | null };
    handOut(handOver: (item: PendingConnection) => void): Promise<void>;
  };
  /** systemd's NOTIFY_SOCKET (and watchdog) for the new master's environment. */
  notifyEnv(): Readonly<Record<string, string>>;
  /** This master stops notifying systemd: the service is the new master's. */
  silence(): void;
  freeControl(): void;
}

/**
 * `rocket-cluster upgrade` and SIGUSR2 for one running master: one upgrade at
 * a time, only while running. `upgrade` resolves once the new master is ready
 * (or has failed, and this master goes on); `handedOn` once this master has
 * handed everything over and may exit.
 */
export function upgradeTrigger(p: UpgradeTriggerParts): { upgrade(): Promise<UpgradeOutcome>; handedOn: Promise<void> } {
  let upgrading = false;
  let handed: () => void = () => {};
  const handedOn = new Promise<void>((resolve) => (handed = resolve));
  const upgrade = async (): Promise<UpgradeOutcome> => {
    const { origin, master, log } = p;
    if (!origin) return { done: false, reason: 'this master was not started by the rocket-cluster CLI: there is nothing to start the new one from' };
    if (upgrading || !master.running) return { done: false, reason: upgrading ? 'an upgrade is running' : 'the cluster is not running (starting, reloading or stopping)' };
    upgrading = true;
    const up = new MasterUpgrade({
      ...{ config: p.config, origin, log, env: p.notifyEnv(), freeControl: p.freeControl },
      addresses: () => master.addresses,
      listeners: () => master.upgradeListeners(),
      handOut: (handOver) => master.handOut(handOver),
    });
    const outcome = await up.start();
    if (!outcome.done) {
      upgrading = false;
      log.error({ reason: outcome.reason }, `upgrade aborted, this master keeps serving: ${outcome.reason}`);
      return outcome;
    }
    log.info({ newMasterPid: outcome.pid }, 'upgrade: the new master is ready; handing over');
    p.silence(); // no STOPPING=1 from this one as it leaves
    void up.finish().then(handed);
    return outcome;
  };
  return { upgrade, handedOn };
}
