import type { CommandModule } from 'yargs';
import { runMaster } from '../../master/main.js';
import { resolveConfig, type ConfigInput } from '../../shared/config.js';
import { DEFAULTS } from '../../shared/defaults.js';
import { RocketError } from '../../shared/errors.js';

interface StartArgs {
  app: string;
  name?: string;
  listen?: string[];
  workers?: number;
  minWorkers?: number;
  maxWorkers?: number;
  scaleDownAfter?: number;
  eluFull?: number;
  eluIdle?: number;
  queuePerWorker?: number;
  queueSize?: number;
  workerConnections?: number;
  parkAfter?: number;
  keepAliveTimeout?: number;
  maxParked?: number;
  headersTimeout?: number;
  requestTimeout?: number;
  maxHeaderSize?: number;
  shutdownTimeout?: number;
  drainTimeout?: number;
  workerTimeout?: number;
  maxRequests?: number;
  maxRequestsJitter?: number;
  maxMemory?: number;
  startTimeout?: number;
  timeoutCheckInterval?: number;
  admin?: string;
  accessLog?: boolean;
  logLevel?: string;
}

const int = (describe: string, fallback: number) => ({ type: 'number' as const, describe: `${describe} [default: ${fallback}]` });

/** `rocket-cluster start <app>`: runs a cluster in the foreground until SIGTERM/SIGINT. */
export function startCommand(setCode: (code: number) => void): CommandModule<object, StartArgs> {
  return {
    command: 'start <app>',
    describe: 'Serve an app with a master, workers and a monitor (foreground)',
    builder: (y) =>
      y
        .positional('app', { type: 'string', demandOption: true, describe: 'app module: default-exports (req, res) => {}, or { fetch }, or calls server.listen()' })
        .option('name', { type: 'string', describe: "cluster name in logs [default: the app's file name]" })
        .option('listen', { type: 'string', array: true, alias: 'l', describe: `address to bind, repeatable: host:port, [v6]:port, unix:/path [default: ${DEFAULTS.listen}]` })
        .option('workers', { type: 'number', alias: 'w', describe: 'a fixed pool of N workers: shorthand for --min-workers N --max-workers N' })
        .option('min-workers', int('fewest worker processes', DEFAULTS.minWorkers))
        .option('max-workers', { type: 'number', describe: 'most worker processes [default: the CPUs this process may use, cgroup quota included]' })
        .option('elu-full', { type: 'number', describe: `event-loop utilization (0-1) at which a worker counts as full [default: ${DEFAULTS.eluFull}]` })
        .option('elu-idle', { type: 'number', describe: `average event-loop utilization (0-1) under which the pool may shrink [default: ${DEFAULTS.eluIdle}]` })
        .option('queue-per-worker', int('waiting connections per extra worker when the pool grows', DEFAULTS.queuePerWorker))
        .option('scale-down-after', int('ms the pool must be idle before one worker retires (and between two retirements)', DEFAULTS.scaleDownAfter))
        .option('queue-size', int('connections waiting for a worker before new ones get 503', DEFAULTS.queueSize))
        .option('worker-connections', int('connections one worker serves at once', DEFAULTS.workerConnections))
        .option('park-after', int('ms a keep-alive connection idles in a worker before it is parked; 0 never parks', DEFAULTS.parkAfter))
        .option('keep-alive-timeout', int('ms an idle keep-alive connection is kept in all', DEFAULTS.keepAliveTimeout))
        .option('max-parked', int('idle connections the monitor holds; beyond it a parked connection is closed', DEFAULTS.maxParked))
        .option('headers-timeout', int('ms to receive request headers, else 408', DEFAULTS.headersTimeout))
        .option('request-timeout', int('ms to receive a whole request, else 408; 0 for none', DEFAULTS.requestTimeout))
        .option('max-header-size', int('bytes of request head, else 431', DEFAULTS.maxHeaderSize))
        .option('shutdown-timeout', int('ms a graceful stop may take before processes are killed', DEFAULTS.shutdownTimeout))
        .option('drain-timeout', int('ms a retiring worker (reload, SIGHUP) may take to hand back its connections before it is killed', DEFAULTS.drainTimeout))
        .option('worker-timeout', int('ms a worker may go without a heartbeat before it is killed and replaced', DEFAULTS.workerTimeout))
        .option('max-requests', int('recycle a worker after this many requests; 0 never', 0))
        .option('max-requests-jitter', int('add up to this many (random per worker) to --max-requests, so workers do not recycle together', 0))
        .option('max-memory', int('recycle a worker whose RSS exceeds this many MB; 0 never', 0))
        .option('start-timeout', int('ms for workers to get ready (and for a script to call listen())', DEFAULTS.startTimeout))
        .option('timeout-check-interval', int('ms between checks of headers/request timeouts; a 408 can be this late', DEFAULTS.timeoutCheckInterval))
        .option('admin', { type: 'string', describe: 'address for the admin listener (GET /status), for example 127.0.0.1:9090 [default: off]' })
        .option('access-log', { type: 'boolean', describe: 'one log line per request [default: true]' })
        .option('log-level', { type: 'string', describe: `trace, debug, info, warn, error, fatal or silent [default: ${DEFAULTS.logLevel}]` })
        .example('$0 start app.js --workers 4 --listen 0.0.0.0:8080', 'serve app.js on port 8080 with 4 workers'),
    handler: async (args) => {
      let config;
      try {
        config = resolveConfig({ ...pick(args), app: args.app } as ConfigInput);
      } catch (error) {
        if (!(error instanceof RocketError)) throw error;
        process.stderr.write(`rocket-cluster: ${error.message}\n`);
        setCode(2);
        return;
      }
      setCode(await runMaster(config));
    },
  };
}

function pick(args: StartArgs): Partial<StartArgs> {
  const { name, listen, workers, minWorkers, maxWorkers, scaleDownAfter, eluFull, eluIdle, queuePerWorker, queueSize, workerConnections, parkAfter, keepAliveTimeout, maxParked, headersTimeout, requestTimeout } = args;
  const { maxHeaderSize, shutdownTimeout, drainTimeout, workerTimeout, maxRequests, maxRequestsJitter, maxMemory, startTimeout, timeoutCheckInterval, admin, accessLog, logLevel } = args;
  return { name, listen, workers, minWorkers, maxWorkers, scaleDownAfter, eluFull, eluIdle, queuePerWorker, queueSize, workerConnections, parkAfter, keepAliveTimeout, maxParked, headersTimeout, requestTimeout, maxHeaderSize, shutdownTimeout, drainTimeout, workerTimeout, maxRequests, maxRequestsJitter, maxMemory, startTimeout, timeoutCheckInterval, admin, accessLog, logLevel };
}
