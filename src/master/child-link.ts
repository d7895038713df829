import type { ChildProcess } from 'node:child_process';
import { Channel, type HandleOutcome } from '../shared/channel.js';
import type { ClusterConfig } from '../shared/config.js';
import { DEFAULTS } from '../shared/defaults.js';
import type { NativeHandle } from '../shared/node-internals/handles.js';
import { transition, type ChildState } from './lifecycle.js';
import type { ChildRole } from '../shared/child-env.js';
import { lostOnTheWay } from './liveness.js';
import { spawnChild } from './spawn.js';

/** The master's view of one child process: its channel and its lifecycle state. */
export abstract class ChildLink<In extends { t: string }, Out extends { t: string }> {
  readonly id: number;
  readonly child: ChildProcess;
  readonly channel: Channel<In, Out>;
  readonly startedAt = Date.now();
  #state: ChildState = 'spawning';
  /** Why the process could not be started at all (`EMFILE`, `EAGAIN`), or null: it started. */
  spawnError: string | null = null;
  /** When the child last sent anything (each posts at least every HEARTBEAT_MS). */
  lastHeard = Date.now();
  /** Handles the kernel dropped on their way to it because it was out of descriptors (each came back to us, intact). */
  droppedOnTheWay = 0;

  /** `env`: added to the child's environment (a worker's slot). */
  constructor(role: ChildRole, id: number, config: ClusterConfig, env: Readonly<Record<string, string>> = {}) {
    this.id = id;
    this.child = spawnChild(role, id, config, env);
    this.channel = new Channel<In, Out>(this.child, (m, handle) => this.receive(m, handle), {
      ackTimeout: DEFAULTS.ackTimeout,
      reclaim: (m, handle, outcome) => this.reclaim(m, handle, outcome),
      answering: () => this.#lostOnTheWay(),
    });
    this.child.on('error', (error: NodeJS.ErrnoException) => {
      // A send to a dying child fails; its exit follows and is handled there. But a process that could not be
      // started at all (the master out of descriptors: EMFILE; out of processes: EAGAIN) gets this error, with
      // a negative exitCode, and never an 'exit'.
      if (this.child.pid !== undefined) return;
      this.spawnError = error.code ?? error.message;
      this.#exit(this.child.exitCode, null);
    });
    this.child.once('exit', (code, signal) => this.#exit(code, signal));
  }

  /**
   * An ack is overdue: was the handle lost on its way (the child answers, and
   * was out of descriptors) rather than held by a hung child? Counted.
   */
  #lostOnTheWay(): boolean {
    if (!lostOnTheWay(this.lastHeard)) return false;
    this.droppedOnTheWay++;
    return true;
  }

  #exit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#state === 'exited') return;
    this.#state = transition(this.#state, 'exited');
    this.channel.close();
    this.exited(code, signal);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get state(): ChildState {
    return this.#state;
  }

  set state(next: ChildState) {
    this.#state = transition(this.#state, next);
  }

  /** Asks the child to finish its work and exit, within `withinMs` if given (it is killed after). */
  stop(withinMs?: number): void {
    if (this.#state === 'exited' || this.#state === 'stopping') return;
    this.state = 'stopping';
    this.channel.post(this.shutdownMessage(withinMs));
  }

  kill(): void {
    if (this.#state !== 'exited') this.child.kill('SIGKILL');
  }

  /** Handles one message; for a handle-carrying one, returns whether the master took the handle. */
  protected abstract receive(message: In, handle: NativeHandle | undefined): boolean;

  /**
   * A handle this child did not take comes back here (the channel's one rule):
   * re-queue it or close it. On `timeout` the child is hung and may hold a
   * copy, so it must be killed before the handle is used again.
   */
  protected abstract reclaim(message: Out, handle: NativeHandle, outcome: Exclude<HandleOutcome, 'taken'>): void;

  protected abstract shutdownMessage(withinMs: number | undefined): Out;

  /** Called once, after the process has exited and its channel has failed what was pending. */
  protected abstract exited(code: number | null, signal: NodeJS.Signals | null): void;
}
