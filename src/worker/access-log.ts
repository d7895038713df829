import type http from 'node:http';
import type net from 'node:net';
import type { Logger } from '../shared/logger.js';

const kStart = Symbol('rocket-cluster.accessStart');
const kSocket = Symbol('rocket-cluster.accessSocket');
const kWritten = Symbol('rocket-cluster.accessWritten');

type LoggedResponse = http.ServerResponse & { [kStart]: number; [kSocket]: net.Socket; [kWritten]: number };

/**
 * One line per finished request: method, path, status, bytes (with headers),
 * duration. Returns the server 'request' hook. It runs per request, so the
 * 'finish' listener is one function shared by every response (`this` is the
 * response), not a closure each. The socket is kept on the response: Node
 * detaches it from the response before our 'finish' listener runs.
 */
export function accessLogger(log: Logger): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const onFinish = function (this: LoggedResponse): void {
    const req = this.req;
    log.info(
      {
        method: req.method,
        path: req.url,
        status: this.statusCode,
        bytes: this[kSocket].bytesWritten - this[kWritten],
        ms: Math.round((performance.now() - this[kStart]) * 100) / 100,
      },
      'request',
    );
  };
  return (req, res) => {
    const r = res as LoggedResponse;
    r[kStart] = performance.now();
    r[kSocket] = req.socket;
    r[kWritten] = req.socket.bytesWritten;
    res.on('finish', onFinish);
  };
}
