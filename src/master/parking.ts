import type { ClusterConfig } from '../shared/config.js';
import { DEFAULTS } from '../shared/defaults.js';
import { closeHandle, type NativeHandle } from '../shared/node-internals/handles.js';
import { DescriptorWatch, type DescriptorState } from '../shared/descriptors.js';
import type { Logger } from '../shared/logger.js';
import { hungReason, LIVENESS_CHECK_MS } from './liveness.js';
import { MonitorLink } from './monitor-link.js';
import { Ticker } from './ticker.js';

export interface ParkingEvents {
  ready(): void;
  /** A parked client sent again: the master owns `handle`; `head` (base64) must be replayed. */
  wake(id: number, handle: NativeHandle, head: string): void;
  /** The monitor exited; return true to start a new one (its parked connections are lost either way). */
  exited(monitor: MonitorLink, code: number | null, signal: NodeJS.Signals | null): boolean;
}

/** A monitor process that could not be started at all (EMFILE, EAGAIN) is tried again this often. */
const SPAWN_RETRY_MS = 250;

/** Why the monitor was last replaced, for `/status`. */
export interface MonitorRestart {
  readonly at: string;
  readonly reason: string;
}

/**
 * The master's side of parking: the monitor process, and the relay of idle
 * connections to it (worker → master → monitor) and back (monitor → master →
 * queue). Bounded by `maxParked`: a connection beyond it is closed, as a
 * keep-alive timeout would close it.
 *
 * The monitor is supervised like a worker, here rather than by the Supervisor
 * because it must be watched whatever the pool does (an errored pool stops the
 * Supervisor's timer): silent for `workerTimeout`, not ready within
 * `startTimeout` after a restart, or not acknowledging a park within the ack
 * timeout, it is killed; whenever it exits, a new one starts at once and the
 * connections it held are counted lost.
 */
export class Parking {
  readonly #config: ClusterConfig;
  readonly #log: Logger;
  readonly #events: ParkingEvents;
  #monitor: MonitorLink | null = null;
  /** Why the master killed the current monitor; null if it did not. */
  #killedFor: string | null = null;
  readonly #watch = new Ticker(LIVENESS_CHECK_MS, () => this.#check());
  readonly counters = { parks: 0, wakes: 0, refused: 0, lost: 0, restarts: 0 };
  lastRestart: MonitorRestart | null = null;
  /** A start that failed (EMFILE) is tried again by this timer. */
  #retry: NodeJS.Timeout | null = null;
  #spawnFailing = false;
  #stopped = false;
  /** The monitor's descriptors, read from /proc/<pid> each check, episodes counted across monitors. */
  readonly #monitorFds: DescriptorWatch;

  constructor(config: ClusterConfig, log: Logger, events: ParkingEvents) {
    this.#config = config;
    this.#log = log;
    this.#events = events;
    const running = () => (this.#monitor && this.#monitor.state !== 'exited' ? (this.#monitor.pid ?? null) : null);
    this.#monitorFds = new DescriptorWatch(log, { target: running, fields: () => ({ process: 'monitor', monitorPid: this.#monitor?.pid }) });
  }

  get monitor(): MonitorLink | null {
    return this.#monitor;
  }

  start(): void {
    this.#killedFor = null;
    this.#monitor = new MonitorLink(this.counters.restarts, this.#config, {
      ready: () => {
        // Watched from its first ready on: until then the master's startup gate owns `startTimeout`.
        this.#watch.start();
        this.#events.ready();
      },
      wake: (id, handle, head) => {
        this.counters.wakes++;
        this.#events.wake(id, handle, head);
      },
      exit: (monitor, code, signal) => this.#exited(monitor, code, signal),
    });
  }

  /** Takes an idle connection from a worker; `accepting` is false once the server stops. */
  park(id: number, handle: NativeHandle, accepting: boolean): void {
    const monitor = this.#monitor;
    // A monitor out of descriptors would not get this one: the kernel drops it on the way (liveness.ts, lostOnTheWay).
    if (!accepting || !monitor || monitor.state !== 'ready' || monitor.parked >= this.#config.maxParked || this.#monitorFds.state.now) {
      this.counters.refused++;
      closeHandle(handle);
      return;
    }
    this.counters.parks++;
    void monitor.watch(id, handle, this.#config.parkAfter).then((outcome) => {
      if (outcome === 'taken') return;
      // Not taken: the monitor link closed it (the one rule), and the monitor never held it.
      this.counters.refused++;
      if (outcome === 'timeout') this.#kill(monitor, `no ack for a parked connection within ${DEFAULTS.ackTimeout} ms`);
    });
  }

  stop(): void {
    this.#halt();
    this.#monitor?.stop();
  }

  /** A master upgrade: the monitor hands every parked socket back (each arrives as a `wake`). */
  release(): void {
    this.#monitor?.channel.post({ t: 'release' });
  }

  kill(): void {
    this.#halt();
    this.#monitor?.kill();
  }

  #halt(): void {
    this.#stopped = true;
    this.#watch.stop();
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
  }

  /** The monitor's descriptors, as this master reads them in /proc (a heartbeat field would need the monitor's code). */
  get monitorDescriptors(): DescriptorState {
    return this.#monitorFds.state;
  }

  #check(): void {
    this.#monitorFds.sample();
    const monitor = this.#monitor;
    const reason = monitor && hungReason(monitor, Date.now(), this.#config);
    if (monitor && reason) this.#kill(monitor, reason);
  }

  /** One error per hang, with its cause; the exit that follows replaces the monitor. */
  #kill(monitor: MonitorLink, reason: string): void {
    if (monitor !== this.#monitor || this.#killedFor !== null || monitor.state === 'exited') return;
    this.#killedFor = reason;
    this.#log.error({ monitorPid: monitor.pid, reason }, 'monitor hung: killing it');
    monitor.kill();
  }

  #exited(monitor: MonitorLink, code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.#events.exited(monitor, code, signal)) {
      this.#watch.stop();
      return;
    }
    if (monitor.spawnError !== null) return this.#spawnFailed(monitor);
    // Parks still in flight were reclaimed (closed, counted refused) before this runs: `parked` is what it held.
    const lost = monitor.parked;
    const killed = this.#killedFor !== null;
    const reason = this.#killedFor ?? `exited (code ${code}, signal ${signal})`;
    this.counters.lost += lost;
    this.counters.restarts++;
    this.lastRestart = { at: new Date().toISOString(), reason };
    // A kill of ours was logged as an error with its cause already; a death we did not cause is the error here.
    this.#log[killed ? 'warn' : 'error'](
      { monitorPid: monitor.pid, code, signal, lostParked: lost, reason, restarts: this.counters.restarts },
      'monitor exited: starting a new one',
    );
    this.start();
  }

  /**
   * The monitor process could not be started at all (the master out of
   * descriptors: EMFILE). Starting again at once would fail at once, on every
   * tick: it is tried again every SPAWN_RETRY_MS, logged once per streak.
   * Meanwhile idle connections are not parked (they are closed, counted refused).
   */
  #spawnFailed(monitor: MonitorLink): void {
    if (this.#retry !== null) return;
    if (!this.#spawnFailing) {
      this.#spawnFailing = true;
      this.lastRestart = { at: new Date().toISOString(), reason: `could not start: ${monitor.spawnError}` };
      this.#log.error({ error: monitor.spawnError, retryMs: SPAWN_RETRY_MS }, 'could not start the monitor process: trying again until it starts');
    }
    this.#retry = setTimeout(() => {
      this.#retry = null;
      if (this.#stopped) return;
      this.start();
      if (this.#monitor?.pid !== undefined) {
        this.#spawnFailing = false;
        this.#log.info({ monitorPid: this.#monitor?.pid }, 'the monitor process started again');
      }
    }, SPAWN_RETRY_MS);
    this.#retry.unref();
  }
}
