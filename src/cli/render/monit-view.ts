import Table from 'cli-table3';
import type { StatusResult } from '../../shared/control-protocol.js';
import { formatBytes, formatDuration, formatPercent } from './format.js';

/** What one frame needs from the previous one: each worker's served count, to turn into req/s. */
export interface MonitSample {
  readonly at: number;
  readonly served: ReadonlyMap<number, number>;
}

export function sampleOf(result: StatusResult, at: number): MonitSample {
  return { at, served: new Map(result.status.workers.map((w) => [w.id, w.served])) };
}

/**
 * One frame of `monit`: the pool, the queue, parked sockets, the memory
 * budget and sticky addresses when set, and req/s per worker since the
 * previous frame (blank on the first).
 */
export function renderMonitFrame(result: StatusResult, now: MonitSample, previous: MonitSample | null): string {
  const s = result.status;
  const seconds = previous ? (now.at - previous.at) / 1000 : 0;
  const rate = (id: number): number | null => {
    const before = previous?.served.get(id);
    const after = now.served.get(id);
    return before === undefined || after === undefined || seconds <= 0 ? null : Math.max(0, after - before) / seconds;
  };
  const live = s.workers.filter((w) => w.state !== 'exited');
  const rates = live.map((w) => rate(w.id));
  const total = rates.every((r) => r === null) ? null : rates.reduce((a: number, r) => a + (r ?? 0), 0);
  const table = new Table({
    head: ['worker', 'slot', 'pid', 'gen', 'state', 'conns', 'req/s', 'served', 'cpu', 'memory', 'uptime'],
    style: { head: [], border: [], compact: true },
    colAligns: ['right', 'right', 'right', 'right', 'left', 'right', 'right', 'right', 'right', 'right', 'right'],
  });
  live.forEach((w, i) => {
    const u = w.pid === null ? undefined : result.usage[w.pid];
    const r = rates[i];
    table.push([String(w.id), String(w.slot), String(w.pid ?? '-'), String(w.generation), w.state, String(w.connections), r == null ? '-' : r.toFixed(0), String(w.served), formatPercent(u?.cpu), formatBytes(u?.memory), formatDuration(w.uptimeMs)]);
  });
  const state = s.pool.errored !== null ? `errored: ${s.pool.errored}` : s.reloading ? 'reloading' : s.state;
  const memory = s.pool.memory;
  const sticky = s.connections.sticky;
  return [
    `${s.name} · master ${s.pid} · ${state} · generation ${s.generation} · up ${formatDuration(s.uptimeMs)}`,
    `pool     ${live.length} worker${live.length === 1 ? '' : 's'} (min ${s.pool.min}, max ${s.pool.max}) · restarts ${s.restarts} · recycled ${s.pool.recycled}`,
    `queue    ${s.queue.depth} waiting (oldest ${s.queue.oldestWaitMs} ms) · ${s.queue.rejected} rejected`,
    `parked   ${s.parked.count} of ${s.parked.capacity} · monitor ${s.monitor.pid ?? '-'} ${s.monitor.state}`,
    // Only with a budget (--pool-memory-soft/-hard) or --sticky ip: without them these say nothing.
    ...(memory.soft !== null || memory.hard !== null
      ? [`memory   workers ${formatBytes(memory.rss)} · soft ${mbText(memory.soft)} · hard ${mbText(memory.hard)}${memory.holding !== null ? ` · holding growth (${memory.holding})` : ''} · held ${memory.held} time${memory.held === 1 ? '' : 's'}`]
      : []),
    ...(sticky !== null ? [`sticky   ${sticky.addresses} address${sticky.addresses === 1 ? '' : 'es'} · ${sticky.moved} moved`] : []),
    `requests ${total === null ? '-' : total.toFixed(0)} req/s`,
    table.toString(),
  ].join('\n');
}

const mbText = (mb: number | null): string => (mb === null ? 'off' : `${mb} MB`);
