import type { ScaleEvent } from './autoscaler.js';
import type { ChildState } from './lifecycle.js';

/** What `GET /status` answers (and, later, the CLI's `status`). */
export interface StatusReport {
  readonly name: string;
  readonly pid: number;
  readonly state: 'starting' | 'running' | 'stopping';
  /** Generation of the newest workers; each reload starts the next. */
  readonly generation: number;
  readonly reloading: boolean;
  readonly uptimeMs: number;
  readonly listening: readonly string[];
  readonly queue: { readonly depth: number; readonly capacity: number; readonly oldestWaitMs: number; readonly rejected: number };
  readonly parked: { readonly count: number; readonly capacity: number; readonly refused: number; readonly lost: number };
  readonly monitor: { readonly pid: number | null; readonly state: ChildState | 'none'; readonly restarts: number };
  readonly workers: readonly {
    readonly id: number;
    readonly pid: number | null;
    readonly state: ChildState;
    readonly generation: number;
    readonly connections: number;
    readonly served: number;
    readonly uptimeMs: number;
  }[];
  readonly restarts: number;
  /** Pool bounds and the last scale events with their reason. */
  readonly pool: {
    readonly min: number;
    readonly max: number;
    /** Why workers are no longer restarted (a crash loop), or null. */
    readonly errored: string | null;
    readonly recycled: number;
    readonly events: readonly ScaleEvent[];
  };
  readonly connections: { readonly accepted: number; readonly dispatched: number; readonly parks: number; readonly wakes: number };
}
