import Table from 'cli-table3';
import { styleText } from 'node:util';
import type { StatusResult } from '../../shared/control-protocol.js';
import { formatBytes, formatDuration, formatPercent } from './format.js';

/** One process of a cluster as `list` shows it, like a row of `pm2 ls`. */
export interface ProcessRow {
  readonly name: string;
  readonly pid: number | null;
  readonly role: 'master' | 'monitor' | `worker ${number}`;
  readonly generation: number | null;
  readonly state: string;
  readonly uptimeMs: number | null;
  readonly restarts: number | null;
  readonly cpu: number | undefined;
  readonly memory: number | undefined;
  /** Master: connections waiting in the queue; monitor: parked; worker: served now. */
  readonly connections: number;
  /** Requests served: the pool's total on the master's row. */
  readonly requests: number | null;
}

export const COLUMNS = ['name', 'pid', 'role', 'gen', 'state', 'uptime', 'restarts', 'cpu', 'memory', 'conns', 'requests'] as const;

/**
 * The master's row, the monitor's, then each worker's. Restarts are counted
 * for the pool on the master's row and for the monitor on its own: a replaced
 * worker is a new worker, with its own id.
 */
export function processRows({ status: s, usage }: StatusResult): ProcessRow[] {
  const at = (pid: number | null) => (pid === null ? undefined : usage[pid]);
  const master: ProcessRow = {
    name: s.name,
    pid: s.pid,
    role: 'master',
    generation: s.generation,
    state: s.pool.errored !== null ? 'errored' : s.reloading ? 'reloading' : s.state,
    uptimeMs: s.uptimeMs,
    restarts: s.restarts,
    cpu: at(s.pid)?.cpu,
    memory: at(s.pid)?.memory,
    connections: s.queue.depth,
    requests: s.workers.reduce((n, w) => n + w.served, 0),
  };
  const monitor: ProcessRow = {
    name: s.name,
    pid: s.monitor.pid,
    role: 'monitor',
    generation: null,
    state: s.monitor.state,
    uptimeMs: null,
    restarts: s.monitor.restarts,
    cpu: at(s.monitor.pid)?.cpu,
    memory: at(s.monitor.pid)?.memory,
    connections: s.parked.count,
    requests: null,
  };
  const workers = s.workers.map(
    (w): ProcessRow => ({
      name: s.name,
      pid: w.pid,
      role: `worker ${w.id}`,
      generation: w.generation,
      state: w.state,
      uptimeMs: w.uptimeMs,
      restarts: null,
      cpu: at(w.pid)?.cpu,
      memory: at(w.pid)?.memory,
      connections: w.connections,
      requests: w.served,
    }),
  );
  return [master, monitor, ...workers];
}

const STATE_STYLE: Record<string, Parameters<typeof styleText>[0]> = {
  running: 'green',
  ready: 'green',
  starting: 'yellow',
  spawning: 'yellow',
  reloading: 'yellow',
  draining: 'yellow',
  stopping: 'yellow',
  errored: 'red',
  exited: 'red',
};

/** The `list` table; `color` when the output is a terminal. */
export function renderStatusTable(results: readonly StatusResult[], color: boolean): string {
  const paint = (style: Parameters<typeof styleText>[0] | undefined, text: string) => (color && style ? styleText(style, text) : text);
  const table = new Table({
    head: COLUMNS.map((c) => paint('cyan', c)),
    style: { head: [], border: [], compact: true },
    colAligns: ['left', 'right', 'left', 'right', 'left', 'right', 'right', 'right', 'right', 'right', 'right'],
  });
  const dash = (v: number | null | undefined, f: (n: number) => string = String) => (v === null || v === undefined ? '-' : f(v));
  for (const result of results) {
    for (const r of processRows(result)) {
      table.push([
        paint(r.role === 'master' ? 'bold' : undefined, r.name),
        dash(r.pid),
        r.role,
        dash(r.generation),
        paint(STATE_STYLE[r.state], r.state),
        dash(r.uptimeMs, formatDuration),
        dash(r.restarts),
        formatPercent(r.cpu),
        formatBytes(r.memory),
        String(r.connections),
        dash(r.requests),
      ]);
    }
  }
  return table.toString();
}
