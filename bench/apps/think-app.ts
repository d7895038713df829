// The think-time parts' app: a hello-world fast path, a slow path that burns
// SLOW_CPU_MS of CPU, and /pid (which process answered; the PM2 contender
// waits until both workers do). Default-exports a request listener like
// examples/hello.mjs, so that rocket-cluster and the node:cluster baseline
// (serve-app.ts) load it the same way; listen-think-app.ts serves it for PM2.
// Every response carries Content-Length: the bench's client reads no other framing.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const FAST_PATH = '/';
export const SLOW_PATH = '/slow';
export const PID_PATH = '/pid';
/** CPU one slow request costs: a page that renders or queries, against the fast path's ~0.1 ms. */
export const SLOW_CPU_MS = 20;

const HELLO = Buffer.from('Hello, world\n');
const SLOW = Buffer.from('Done thinking\n');

export default function thinkApp(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === SLOW_PATH) {
    spin(SLOW_CPU_MS);
    send(res, SLOW);
  } else if (req.url === PID_PATH) {
    send(res, Buffer.from(`${process.pid}\n`));
  } else {
    send(res, HELLO);
  }
}

function send(res: ServerResponse, body: Buffer): void {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
}

/**
 * Busy until this process has used `ms` more of CPU. Measured in CPU time, not
 * wall time (performance.now()): on 2 cores shared with the client and the
 * other processes a wall-clock loop descheduled halfway would cost less CPU,
 * and a contender that causes more contention would get cheaper slow requests.
 * The event loop is blocked throughout, as with real synchronous work.
 */
function spin(ms: number): void {
  const start = process.cpuUsage();
  const budgetUs = ms * 1000;
  for (;;) {
    const used = process.cpuUsage(start);
    if (used.user + used.system >= budgetUs) return;
  }
}
