import type { ClusterConfig } from '../shared/config.js';
import type { NativeHandle } from '../shared/handles.js';
import { assertNever, type MasterToWorker, type WorkerToMaster } from '../shared/protocol.js';
import { ChildLink } from './child-link.js';
import type { WorkerSnapshot } from './scheduling.js';

export interface WorkerEvents {
  ready(worker: WorkerLink): void;
  /** The worker's load changed: it may take more connections. */
  load(worker: WorkerLink): void;
  /** The worker hands back an idle keep-alive connection; the master now owns `handle`. */
  park(worker: WorkerLink, id: number, handle: NativeHandle): void;
  fatal(worker: WorkerLink, code: string, message: string): void;
  exit(worker: WorkerLink, code: number | null, signal: NodeJS.Signals | null): void;
}

/** One worker process: serves connections the master sends it. */
export class WorkerLink extends ChildLink<WorkerToMaster, MasterToWorker> implements WorkerSnapshot {
  readonly #events: WorkerEvents;
  /** Connections the worker holds, as it last reported. */
  active = 0;
  served = 0;

  constructor(id: number, config: ClusterConfig, events: WorkerEvents) {
    super('worker', id, config);
    this.#events = events;
  }

  /** Counts as capacity: said ready, not retiring. */
  get ready(): boolean {
    return this.state === 'ready';
  }

  /** A connection is on its way to this worker and not yet acknowledged. */
  get busy(): boolean {
    return this.channel.busy;
  }

  /** Sends a connection; resolves true once the worker owns it. */
  serve(id: number, handle: NativeHandle, head: string | undefined): Promise<boolean> {
    return this.channel.sendHandle(head === undefined ? { t: 'conn', id } : { t: 'conn', id, head }, handle);
  }

  protected override exited(code: number | null, signal: NodeJS.Signals | null): void {
    this.#events.exit(this, code, signal);
  }

  protected override shutdownMessage(): MasterToWorker {
    return { t: 'shutdown' };
  }

  protected override receive(m: WorkerToMaster, handle: NativeHandle | undefined): boolean {
    switch (m.t) {
      case 'ready':
        this.active = m.active;
        this.served = m.served;
        if (this.state === 'spawning') this.state = 'ready';
        this.#events.ready(this);
        return true;
      case 'load':
        this.active = m.active;
        this.served = m.served;
        this.#events.load(this);
        return true;
      case 'park':
        if (!handle) return false;
        this.#events.park(this, m.id, handle);
        return true;
      case 'fatal':
        this.#events.fatal(this, m.code, m.message);
        return true;
      case 'ack':
        return true; // settled by the channel; never reaches here
      default:
        return assertNever(m);
    }
  }
}
