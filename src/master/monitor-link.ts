import type { ClusterConfig } from '../shared/config.js';
import type { HandleOutcome } from '../shared/channel.js';
import { closeHandle, type NativeHandle } from '../shared/node-internals/handles.js';
import { assertNever, type MasterToMonitor, type MonitorToMaster } from '../shared/protocol.js';
import { ChildLink } from './child-link.js';

export interface MonitorEvents {
  ready(): void;
  /** A parked client sent again; the master now owns `handle`, and `head` (base64) must be replayed. */
  wake(id: number, handle: NativeHandle, head: string): void;
  exit(monitor: MonitorLink, code: number | null, signal: NodeJS.Signals | null): void;
}

/** The monitor process, which holds parked keep-alive sockets. */
export class MonitorLink extends ChildLink<MonitorToMaster, MasterToMonitor> {
  readonly #events: MonitorEvents;
  /** Sockets the monitor holds: its last report, plus parks sent since and not refused, minus wakes received since. */
  parked = 0;

  constructor(id: number, config: ClusterConfig, events: MonitorEvents) {
    super('monitor', id, config);
    this.#events = events;
  }

  /** Hands an idle connection to the monitor; resolves with what became of it (see `reclaim`). */
  watch(id: number, handle: NativeHandle, idleFor: number): Promise<HandleOutcome> {
    this.parked++; // counted at once, so `maxParked` holds while parks are in flight; the monitor's next report corrects it
    return this.channel.sendHandle({ t: 'watch', id, idleFor }, handle);
  }

  /**
   * An idle connection the monitor did not take is closed, as its keep-alive
   * timeout would close it, and uncounted. This runs synchronously when the
   * channel fails (ack timeout, exit), so by the time `exited` runs, `parked`
   * no longer counts parks that never arrived as lost.
   */
  protected override reclaim(_message: MasterToMonitor, handle: NativeHandle): void {
    this.parked = Math.max(0, this.parked - 1);
    closeHandle(handle);
  }

  protected override exited(code: number | null, signal: NodeJS.Signals | null): void {
    this.#events.exit(this, code, signal);
  }

  protected override shutdownMessage(): MasterToMonitor {
    return { t: 'shutdown' };
  }

  protected override receive(m: MonitorToMaster, handle: NativeHandle | undefined): boolean {
    this.lastHeard = Date.now();
    switch (m.t) {
      case 'ready':
        if (this.state === 'spawning') this.state = 'ready';
        this.#events.ready();
        return true;
      case 'parked':
        this.parked = m.count;
        return true;
      case 'heartbeat':
        this.parked = m.parked;
        return true;
      case 'wake':
        if (!handle) return false;
        this.parked = Math.max(0, this.parked - 1);
        this.#events.wake(m.id, handle, m.head);
        return true;
      case 'ack':
        return true;
      default:
        return assertNever(m);
    }
  }
}
