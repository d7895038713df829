import type http from 'node:http';
import type { Connections } from './connections.js';
import type { WorkerMetrics } from './metrics.js';

const kStart = Symbol('rocket-cluster.requestStart');
/** A response with the time (performance.now()) its request reached the app, when metrics or the access log need it. */
type TimedResponse = http.ServerResponse & { [kStart]?: number };

export interface RequestHookParts {
  readonly connections: Connections;
  /** The worker's metrics, once loaded (only with an admin listener). */
  readonly metrics: () => WorkerMetrics | null;
  /** The access log, or null when it is off. */
  readonly access: ((res: http.ServerResponse, ms: number) => void) | null;
}

/**
 * The server 'request' hook that runs in front of the app's handlers: request
 * tracking, and the start time when metrics or the access log need one.
 * One 'finish' listener shared by every response (`this` is the response)
 * serves tracking, metrics and the access log alike: each listener added to
 * a response, and each closure, is work done tens of thousands of times a second.
 */
export function requestHook(parts: RequestHookParts): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const { connections, metrics, access } = parts;
  const onFinish = function (this: TimedResponse): void {
    connections.finished(this);
    const start = this[kStart];
    if (start === undefined) return;
    const ms = performance.now() - start;
    metrics()?.finished(this, ms);
    access?.(this, ms);
  };
  return (req, res) => {
    connections.onRequest(req, res);
    if (access !== null || metrics() !== null) (res as TimedResponse)[kStart] = performance.now();
    res.on('finish', onFinish);
  };
}
