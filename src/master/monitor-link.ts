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
  /** Sockets the monitor holds, as it last reported. */
  parked = 0;

  constructor(id: number, config: ClusterConfig, events: MonitorEvents) {
    super('monitor', id, config);
    this.#events = events;
  }

  /** Hands an idle connection to the monitor; resolves with what became of it (see `reclaim`). */
  watch(id: number, handle: NativeHandle, idleFor: number): Promise<HandleOutcome> {
    return this.channel.sendHandle({ t: 'watch', id, idleFor }, handle);
  }

  /** An idle connection the monitor did not take is closed, as its keep-alive timeout would close it. */
  protected override reclaim(_message: MasterToMonitor, handle: NativeHandle): void {
    closeHandle(handle);
  }

  protected override exited(code: number | null, signal: NodeJS.Signals | null): void {
    this.#events.exit(this, code, signal);
  }

  protected override shutdownMessage(): MasterToMonitor {
    return { t: 'shutdown' };
  }

  protected override receive(m: MonitorToMaster, handle: NativeHandle | undefined): boolean {
    switch (m.t) {
      case 'ready':
        if (this.state === 'spawning') this.state = 'ready';
        this.#events.ready();
        return true;
      case 'parked':
        this.parked = m.count;
        return true;
      case 'wake':
        if (!handle) return false;
        this.#events.wake(m.id, handle, m.head);
        return true;
      case 'ack':
        return true;
      default:
        return assertNever(m);
    }
  }
}
