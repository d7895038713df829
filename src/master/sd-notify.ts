import { spawn } from 'node:child_process';
import type { Logger } from '../shared/logger.js';
import type { StatusReport } from '../shared/status-report.js';
import type { MasterState } from './master-state.js';

/**
 * sd_notify(3) for the master under systemd (`Type=notify`): READY=1 once
 * every address listens, RELOADING=1 / READY=1 around a reload, STOPPING=1,
 * STATUS= lines, and WATCHDOG=1 pings when the unit sets `WatchdogSec=`.
 *
 * How a datagram gets out: the protocol is one datagram on the unix socket
 * named by NOTIFY_SOCKET, and Node cannot send one (`dgram` is UDP only; libuv
 * has no unix datagram sockets). The npm packages that can (`sd-notify`,
 * `unix-dgram`) compile a native addon at install time, and the one with
 * prebuilt binaries (`node-unix-socket`) is a small project without abstract
 * socket support. So each message is sent by systemd's own `systemd-notify`,
 * which is installed wherever systemd is, handles abstract (`@`) sockets,
 * and:
 * - sends as the master's pid where it may (as root: it sets the credentials
 *   to its parent's pid); unprivileged it sends as itself, which systemd
 *   accepts only with `NotifyAccess=all` (the generated unit sets it);
 * - waits (BARRIER=1, up to 5 s) until the manager has read the message, so
 *   the message is never dropped for coming from a process already gone.
 * One `systemd-notify` runs at a time, so messages arrive in order; a STATUS=
 * still waiting is replaced by a newer one. A process every few seconds at
 * most (status changes, watchdog pings) costs the master little.
 */

/** The environment sd_notify reads; the master removes it so that no worker, monitor or app process sees it. */
const VARIABLES = ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID'] as const;

export interface NotifyTarget {
  /** NOTIFY_SOCKET: a socket path, or `@name` for the abstract namespace. */
  readonly socket: string;
  /** WATCHDOG_USEC, when the watchdog is on and meant for this process (WATCHDOG_PID unset or this pid). */
  readonly watchdogUsec: number | null;
}

/**
 * Reads NOTIFY_SOCKET and the watchdog's variables and removes them from
 * `env` (the master's, which every child inherits). Null when not run by a
 * service manager that wants notifications.
 */
export function takeNotifyTarget(env: NodeJS.ProcessEnv = process.env, pid = process.pid): NotifyTarget | null {
  const [socket, usec, watchdogPid] = VARIABLES.map((name) => env[name]);
  for (const name of VARIABLES) delete env[name];
  if (!socket) return null;
  const micros = Number(usec);
  const forUs = watchdogPid === undefined || Number(watchdogPid) === pid;
  return { socket, watchdogUsec: Number.isSafeInteger(micros) && micros > 0 && forUs ? micros : null };
}

/** What the notifier reads of the master. */
export interface NotifySource {
  status(): StatusReport;
  /** Calls `listener` after every change of the master's state. */
  onStateChange(listener: (state: MasterState, from: MasterState) => void): void;
}

/** STATUS= is refreshed this often, when it changed (and at once on every change of state). */
const STATUS_EVERY_MS = 5000;

/**
 * Tells systemd what the master does: RELOADING=1 when a reload starts and
 * READY=1 when it ends (SIGHUP or `rocket-cluster reload`), STOPPING=1 when a
 * stop begins, STATUS= on each change of state and every 5 s when it changed,
 * WATCHDOG=1 pings. The first READY=1 is runMaster's to send (`ready`), once
 * `start` has bound every address with the minimum of workers ready.
 */
export function watchSystemd(target: NotifyTarget, master: NotifySource, log: Logger): SystemdNotifier {
  const notifier = new SystemdNotifier(target, log);
  const status = () => statusLine(master.status());
  master.onStateChange((state, from) => {
    try {
      if (state === 'reloading') notifier.reloading(status());
      else if (state === 'running' && from === 'reloading') notifier.ready(status());
      else if ((state === 'stopping' || state === 'killing') && from !== 'stopping') notifier.stopping(status());
      else notifier.status(status());
    } catch (error) {
      // Called inside the master's state change: a bug here must not stop a reload or a stop half-way.
      log.error({ err: error }, 'systemd notification failed');
    }
  });
  notifier.every(STATUS_EVERY_MS, () => notifier.status(status()));
  notifier.startWatchdog();
  return notifier;
}

/** One line for `systemctl status`: `running: 2 workers (2 ready), generation 1, queue 0, parked 3; listening 0.0.0.0:80`. */
export function statusLine(s: StatusReport): string {
  const ready = s.workers.filter((w) => w.state === 'ready').length;
  const state = s.pool.errored !== null ? `errored (${s.pool.errored})` : s.reloading ? 'reloading' : s.state;
  const listening = s.listening.length > 0 ? `; listening ${s.listening.join(' ')}` : '';
  return `${state}: ${s.workers.length} workers (${ready} ready), generation ${s.generation}, queue ${s.queue.depth}, parked ${s.parked.count}${listening}`;
}

/** Sends sd_notify messages in order, one `systemd-notify` at a time. */
export class SystemdNotifier {
  readonly #target: NotifyTarget;
  readonly #log: Logger;
  /** Messages waiting, each a list of VARIABLE=value lines. */
  readonly #queue: string[][] = [];
  #sending: Promise<void> | null = null;
  readonly #timers: NodeJS.Timeout[] = [];
  #lastStatus = '';
  #warned = false;
  /** After a master upgrade's hand-over: the new master speaks for the service now. */
  #silenced = false;

  constructor(target: NotifyTarget, log: Logger) {
    this.#target = target;
    this.#log = log;
  }

  /** Runs `task` every `ms` until `close`; the timer never keeps the process alive. */
  every(ms: number, task: () => void): void {
    const timer = setInterval(task, ms);
    timer.unref();
    this.#timers.push(timer);
  }

  /** Starts the watchdog pings, every WATCHDOG_USEC / 2 as sd_watchdog_enabled(3) advises. */
  startWatchdog(): void {
    const usec = this.#target.watchdogUsec;
    if (usec === null) return;
    const everyMs = Math.max(1, Math.floor(usec / 2000));
    this.every(everyMs, () => this.#send(['WATCHDOG=1'], true));
    this.#log.info({ everyMs }, 'systemd watchdog: pinging');
  }

  /** `mainPid`: this process is the service's main one from now on (the new master of an upgrade; needs NotifyAccess=all). */
  ready(status: string, mainPid = false): void {
    this.#lastStatus = status;
    this.#send(['READY=1', ...(mainPid ? [`MAINPID=${process.pid}`] : []), `STATUS=${status}`]);
  }

  /** The socket and watchdog period, for the environment of a new master (an upgrade) that will notify in this one's place. */
  get target(): NotifyTarget {
    return this.#target;
  }

  /** Sends nothing more (messages already queued still go): a master upgrade handed the service to the new master. */
  silence(): void {
    this.#silenced = true;
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
  }

  /** A reload begins; MONOTONIC_USEC is CLOCK_MONOTONIC, which Node's hrtime reads on Linux. */
  reloading(status: string): void {
    this.#lastStatus = status;
    this.#send(['RELOADING=1', `MONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`, `STATUS=${status}`]);
  }

  stopping(status: string): void {
    this.#lastStatus = status;
    this.#send(['STOPPING=1', `STATUS=${status}`]);
  }

  /** A STATUS= line, sent only when it says something new. */
  status(status: string): void {
    if (status === this.#lastStatus) return;
    this.#lastStatus = status;
    this.#send([`STATUS=${status}`], true);
  }

  /** Stops the timers and waits for messages still being sent (each ends within systemd-notify's own 5 s barrier). */
  async close(): Promise<void> {
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
    while (this.#sending) await this.#sending;
  }

  /**
   * Queues a message. `replace`: a one-line message (STATUS=, WATCHDOG=1)
   * takes the place of a waiting one of the same variable, so a slow manager
   * never makes the queue grow.
   */
  #send(lines: string[], replace = false): void {
    if (this.#silenced) return;
    const variable = lines[0]!.split('=')[0];
    const waiting = replace ? this.#queue.findIndex((m) => m.length === 1 && m[0]!.split('=')[0] === variable) : -1;
    if (waiting >= 0) this.#queue[waiting] = lines;
    else this.#queue.push(lines);
    this.#sending ??= this.#drain().finally(() => (this.#sending = null));
  }

  async #drain(): Promise<void> {
    for (let lines = this.#queue.shift(); lines; lines = this.#queue.shift()) await this.#run(lines);
  }
  /** One systemd-notify process; failures are logged (once for a missing binary), never thrown: the cluster serves on. */
  #run(lines: readonly string[]): Promise<void> {
    return new Promise((resolve) => {
      // Values are arguments, never shell text; STATUS= text never holds a newline (it would start a new variable).
      const child = spawn('systemd-notify', lines.map((l) => l.replace(/\n/g, ' ')), {
        env: { ...process.env, NOTIFY_SOCKET: this.#target.socket },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (!this.#warned) this.#log.error({ code: error.code }, 'cannot run systemd-notify, so systemd is not told that the cluster is ready (a Type=notify unit then times out): install systemd, or use Type=simple');
        this.#warned = true;
        resolve();
      });
      child.once('close', (code) => {
        if (code !== 0 && code !== null) this.#log.warn({ code, message: lines[0], stderr: stderr.trim() }, 'systemd-notify failed');
        resolve();
      });
    });
  }
}
