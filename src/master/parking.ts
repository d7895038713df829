import type { ClusterConfig } from '../shared/config.js';
import { closeHandle, type NativeHandle } from '../shared/node-internals/handles.js';
import type { Logger } from '../shared/logger.js';
import { MonitorLink } from './monitor-link.js';

export interface ParkingEvents {
  ready(): void;
  /** A parked client sent again: the master owns `handle`; `head` (base64) must be replayed. */
  wake(id: number, handle: NativeHandle, head: string): void;
  /** The monitor exited; return true to start a new one (its parked connections are lost either way). */
  exited(monitor: MonitorLink, code: number | null, signal: NodeJS.Signals | null): boolean;
}

/**
 * The master's side of parking: the monitor process, and the relay of idle
 * connections to it (worker → master → monitor) and back (monitor → master →
 * queue). Bounded by `maxParked`: a connection beyond it is closed, as a
 * keep-alive timeout would close it.
 */
export class Parking {
  readonly #config: ClusterConfig;
  readonly #log: Logger;
  readonly #events: ParkingEvents;
  #monitor: MonitorLink | null = null;
  readonly counters = { parks: 0, wakes: 0, refused: 0, lost: 0, restarts: 0 };

  constructor(config: ClusterConfig, log: Logger, events: ParkingEvents) {
    this.#config = config;
    this.#log = log;
    this.#events = events;
  }

  get monitor(): MonitorLink | null {
    return this.#monitor;
  }

  start(): void {
    this.#monitor = new MonitorLink(this.counters.restarts, this.#config, {
      ready: () => this.#events.ready(),
      wake: (id, handle, head) => {
        this.counters.wakes++;
        this.#events.wake(id, handle, head);
      },
      exit: (monitor, code, signal) => {
        if (!this.#events.exited(monitor, code, signal)) return;
        this.counters.lost += monitor.parked;
        this.#log.error({ monitorPid: monitor.pid, code, signal, lostParked: monitor.parked }, 'monitor exited: starting a new one');
        this.counters.restarts++;
        this.start();
      },
    });
  }

  /** Takes an idle connection from a worker; `accepting` is false once the server stops. */
  park(id: number, handle: NativeHandle, accepting: boolean): void {
    const monitor = this.#monitor;
    if (!accepting || !monitor || monitor.state !== 'ready' || monitor.parked >= this.#config.maxParked) {
      this.counters.refused++;
      closeHandle(handle);
      return;
    }
    this.counters.parks++;
    monitor.parked++; // until the monitor's own count arrives
    void monitor.watch(id, handle, this.#config.parkAfter).then((outcome) => {
      if (outcome === 'taken') return;
      // Not taken: the monitor link closed it (the one rule). A hung monitor is replaced.
      this.counters.refused++;
      if (outcome === 'timeout') {
        this.#log.error({ monitorPid: monitor.pid }, 'monitor did not acknowledge a parked connection: killing it');
        monitor.kill();
      }
    });
  }

  stop(): void {
    this.#monitor?.stop();
  }

  kill(): void {
    this.#monitor?.kill();
  }
}
