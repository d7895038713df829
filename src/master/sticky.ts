/**
 * `--sticky ip`: which worker serves a client address. Pure bookkeeping, no
 * I/O: the dispatcher asks it, and tells it which workers can still serve.
 *
 * An address is bound to the worker its first connection was sent to, and
 * every later connection from it (new, woken from the monitor, or handed back
 * untaken) goes to that worker while it is ready, waiting in the queue when the
 * worker is busy or full. A worker that stops being ready (retiring on reload
 * or scale-down, exited, crashed) never becomes ready again, so when one holding
 * addresses is no longer among the ready ones, all of them move together to
 * one heir (`pickHeir`), not scattered: an app that keeps per-client state in
 * its workers (socket.io sessions) then has one worker to rebuild it on.
 *
 * The table is bounded: past `maxAddresses` the address seen least recently
 * is forgotten (its next connection is bound afresh, to the least-loaded worker).
 */

/** Addresses remembered at most (each costs a Map entry, ~100 bytes): 100,000 is ~10 MB. */
export const STICKY_MAX_ADDRESSES = 100_000;

/** What the heir choice needs of one worker. */
export interface HeirCandidate {
  readonly id: number;
  /** Reload generation: the newest workers are the ones that stay. */
  readonly generation: number;
  /** Connections it holds. */
  readonly active: number;
}

/**
 * The one worker that takes over every address of a worker that left: the
 * newest generation first (in a reload, the replacement, not an old worker
 * about to retire in its turn), then the fewest connections, then the
 * fewest addresses already bound to it, then the first. Null if none.
 */
export function pickHeir(candidates: readonly HeirCandidate[], bound: (id: number) => number): number | null {
  let best: HeirCandidate | null = null;
  for (const c of candidates) {
    if (
      best === null ||
      c.generation > best.generation ||
      (c.generation === best.generation && (c.active < best.active || (c.active === best.active && bound(c.id) < bound(best.id))))
    ) {
      best = c;
    }
  }
  return best?.id ?? null;
}

export class StickyTable {
  readonly #max: number;
  /** Address → worker id, least recently seen first (each `touch` moves one to the end). */
  readonly #byAddress = new Map<string, number>();
  /** Worker id → how many addresses are bound to it. */
  readonly #counts = new Map<number, number>();
  /** Addresses moved to an heir, in all. */
  moved = 0;

  constructor(maxAddresses = STICKY_MAX_ADDRESSES) {
    this.#max = maxAddresses;
  }

  get size(): number {
    return this.#byAddress.size;
  }

  /** The worker `address` is bound to, if any. */
  workerOf(address: string): number | undefined {
    return this.#byAddress.get(address);
  }

  /** Addresses bound to worker `id`. */
  count(id: number): number {
    return this.#counts.get(id) ?? 0;
  }

  /** A connection from `address` was sent to worker `id`: bind it there (or keep it), most recently seen. */
  bind(address: string, id: number): void {
    const was = this.#byAddress.get(address);
    if (was !== undefined) {
      this.#byAddress.delete(address);
      this.#add(was, -1);
    } else if (this.#byAddress.size >= this.#max) {
      const [oldest, worker] = this.#byAddress.entries().next().value as [string, number];
      this.#byAddress.delete(oldest);
      this.#add(worker, -1);
    }
    this.#byAddress.set(address, id);
    this.#add(id, 1);
  }

  /**
   * Moves the addresses of every worker not in `ready` to one heir each
   * (`pickHeir` among `ready`). With no ready worker they stay where they are
   * and move once one is ready. Returns the moves made, for the log.
   */
  settle(ready: readonly HeirCandidate[]): { from: number; to: number; addresses: number }[] {
    const moves: { from: number; to: number; addresses: number }[] = [];
    if (ready.length === 0) return moves;
    const live = new Set(ready.map((w) => w.id));
    for (const [gone, addresses] of [...this.#counts]) {
      if (live.has(gone)) continue;
      const heir = pickHeir(ready, (id) => this.count(id)) as number;
      for (const [address, id] of this.#byAddress) if (id === gone) this.#byAddress.set(address, heir);
      this.#counts.delete(gone);
      this.#add(heir, addresses);
      this.moved += addresses;
      moves.push({ from: gone, to: heir, addresses });
    }
    return moves;
  }

  #add(id: number, n: number): void {
    const count = (this.#counts.get(id) ?? 0) + n;
    if (count > 0) this.#counts.set(id, count);
    else this.#counts.delete(id);
  }
}
