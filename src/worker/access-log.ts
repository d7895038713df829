import type http from 'node:http';
import type { Logger } from '../shared/logger.js';

/** One line per finished request: method, path, status, bytes (with headers), duration, worker. */
export function logAccess(log: Logger, req: http.IncomingMessage, res: http.ServerResponse): void {
  const start = performance.now();
  const socket = req.socket;
  const writtenBefore = socket.bytesWritten;
  res.once('finish', () => {
    log.info(
      {
        method: req.method,
        path: req.url,
        status: res.statusCode,
        bytes: socket.bytesWritten - writtenBefore,
        ms: Math.round((performance.now() - start) * 100) / 100,
      },
      'request',
    );
  });
}
