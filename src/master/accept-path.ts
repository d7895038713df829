import type { ClusterConfig } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { listeningHandleOf, type NativeHandle } from '../shared/node-internals/handles.js';
import { canShareListeners } from '../shared/node-internals/shared-listener.js';
import { bindAll, bindShared, closeAll } from './listener.js';
import { SharedAccept } from './shared-accept.js';
import { activatedSockets, adoptAll, adoptShared } from './socket-activation.js';
import type { WorkerLink } from './worker-link.js';

/**
 * How new connections come in (`--accept`): every one through the master's
 * queue (`master`), or accepted by workers with room on sockets the master
 * lends them (`workers`, the default), the master's queue then taking only
 * the overflow and woken connections. Either way the master binds and owns
 * every listening socket. `--sticky ip` takes the master path: only the
 * master can choose a worker by the client's address.
 */
export interface AcceptPath {
  readonly mode: 'workers' | 'master';
  /** Addresses actually bound (port 0 resolved). */
  readonly addresses: readonly string[];
  /**
   * Lends the listeners to the workers ready now. Separate from opening:
   * their answers (`lent`) must find this path already in place.
   */
  start(): Promise<void>;
  /** The master accepts new connections itself now (always with `--accept master`). */
  readonly masterAccepting: boolean;
  /** A worker said ready: it may accept (workers mode). */
  workerReady(worker: WorkerLink): void;
  /** A worker exited. */
  workerGone(worker: WorkerLink): void;
  /** A worker's connection count changed (a load report, a surplus): workers mode works out the accept limit again. */
  loadChanged(): void;
  /** A worker lent back listener `index` (workers mode). */
  lent(index: number, handle: NativeHandle): void;
  /** Accepts no more; the sockets close once no process holds them. */
  close(): Promise<void>;
  /** The listening sockets, in --listen order, to hand to a new master (upgrade). */
  handles(): NativeHandle[];
  /** A master upgrade: accepts no more here, without unlinking a unix socket the new master serves on. */
  release(): void;
}

export interface AcceptPathOptions {
  readonly workers: () => readonly WorkerLink[];
  /** A connection the master accepted on listen address `listener`: to the dispatcher. */
  accept(handle: NativeHandle, listener: number): void;
  /** Listening sockets inherited from the master this one upgrades, by --listen index: used instead of binding. */
  readonly inherited?: readonly (NativeHandle | undefined)[];
}

/** Binds every address (all or nothing); the master accepts on them until `start` lends them to workers. */
export async function openAcceptPath(config: ClusterConfig, log: Logger, o: AcceptPathOptions): Promise<AcceptPath> {
  // --sticky ip: a worker accepting on a shared socket cannot know whose client it is; the master routes every connection.
  if (config.accept === 'master' || config.sticky === 'ip' || !canShareListeners()) {
    if (config.accept === 'workers' && config.sticky === 'ip') log.info('--sticky ip: the master accepts every connection (--accept master)');
    else if (config.accept === 'workers') log.warn('this Node cannot share listening sockets: the master accepts every connection (--accept master)');
    // Under systemd socket activation the passed sockets are served instead (socket-activation.ts).
    const passed = activatedSockets();
    const listeners = passed ? await adoptAll(passed, o.accept) : await bindAll(config.listen, o.accept, o.inherited);
    return {
      mode: 'master',
      addresses: listeners.map((l) => l.address),
      masterAccepting: true,
      start: async () => {},
      workerReady: () => {},
      workerGone: () => {},
      loadChanged: () => {},
      lent: (_index, handle) => handle.close(),
      close: () => closeAll(listeners),
      handles: () => listeners.map((l) => listeningHandleOf(l.server)).filter((h): h is NativeHandle => h !== null),
      release: () => {
        for (const [i, l] of listeners.entries()) if (config.listen[i]?.kind === 'tcp') l.server.close();
      },
    };
  }
  const passed = activatedSockets();
  const listeners = passed ? adoptShared(passed, o.accept) : await bindShared(config.listen, o.accept, o.inherited);
  const shared = new SharedAccept(listeners, { workerConnections: config.workerConnections, accept: o.accept }, log);
  return {
    mode: 'workers',
    get masterAccepting() {
      return shared.masterAccepting;
    },
    addresses: shared.listeners.map((l) => l.address),
    // The ready workers start accepting; with none (they all died meanwhile) the master goes on.
    start: async () => void (await Promise.all(o.workers().map((w) => shared.lendTo(w)))),
    workerReady: (w) => void shared.lendTo(w),
    workerGone: (w) => shared.drop(w),
    loadChanged: () => shared.loadChanged(),
    lent: (index, handle) => shared.lent(index, handle),
    close: async () => shared.close(),
    handles: () => shared.listeners.map((l) => l.socket),
    release: () => shared.release(),
  };
}
