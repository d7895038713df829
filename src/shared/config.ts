import path from 'node:path';
import { z } from 'zod';
import { DEFAULTS } from './defaults.js';
import { usableCpus } from './cpus.js';
import { RocketError } from './errors.js';

export type ListenAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

const LISTEN_EXAMPLE = 'expected host:port, [v6]:port or unix:/path, for example 127.0.0.1:8080';

/** Parses `host:port`, `[v6]:port` or `unix:/path`; throws a coded error naming the value. */
export function parseListenAddress(text: string, option = 'listen'): ListenAddress {
  const bad = (why: string): never => {
    throw new RocketError('RC_ERR_CONFIG_INVALID', `--${option} ${JSON.stringify(text)}: ${why}`);
  };
  if (text.startsWith('unix:')) {
    const p = text.slice('unix:'.length);
    if (p === '') bad('unix: needs a path, for example unix:/run/app.sock');
    return { kind: 'unix', path: path.resolve(p) };
  }
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(text);
  const v4 = /^([^:[\]]+):(\d+)$/.exec(text);
  const match = v6 ?? v4;
  if (!match) return bad(LISTEN_EXAMPLE);
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) bad('port must be 0 to 65535');
  return { kind: 'tcp', host: match[1] as string, port };
}

export function formatListenAddress(a: ListenAddress): string {
  if (a.kind === 'unix') return `unix:${a.path}`;
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

const ms = (min: number) => z.number().int().min(min).max(24 * 3600 * 1000);
const count = (min: number) => z.number().int().min(min).max(1_000_000);

/** One schema for every setting; field names are the camelCase of the CLI flags. */
const schema = z.strictObject({
  app: z.string().min(1),
  name: z.string().min(1).regex(/^[\w.-]+$/, 'letters, digits, ".", "_" and "-" only'),
  listen: z.array(z.string()).min(1),
  workers: count(1).max(256).optional(),
  minWorkers: count(1).max(256).optional(),
  maxWorkers: count(1).max(256).optional(),
  scaleDownAfter: ms(0),
  eluFull: z.number().gt(0).max(1),
  eluIdle: z.number().min(0).lt(1),
  queuePerWorker: count(1),
  queueSize: count(1),
  workerConnections: count(1),
  parkAfter: ms(0),
  keepAliveTimeout: ms(1),
  maxParked: count(0),
  headersTimeout: ms(1),
  requestTimeout: ms(0),
  maxHeaderSize: count(1024),
  shutdownTimeout: ms(0),
  drainTimeout: ms(0),
  workerTimeout: ms(1000),
  maxRequests: count(0),
  maxRequestsJitter: count(0),
  maxMemory: count(0),
  startTimeout: ms(100),
  timeoutCheckInterval: ms(10),
  admin: z.string().optional(),
  accessLog: z.boolean(),
  /** Where a daemon (or a foreground cluster given --log-dir) writes its log files; unset: stdout only. */
  logDir: z.string().min(1).optional(),
  /** Size at which the log file rotates: a number and k, m or g. */
  logMaxSize: z.string().regex(/^\d+[kmg]$/, 'a size such as 500k, 10m or 1g'),
  /** Rotated log files kept besides the current one. */
  logRetain: count(0).max(1000),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
});

type RawConfig = z.infer<typeof schema>;

export interface ClusterConfig extends Omit<RawConfig, 'listen' | 'admin' | 'workers' | 'minWorkers' | 'maxWorkers'> {
  readonly listen: readonly ListenAddress[];
  readonly admin?: ListenAddress;
  readonly minWorkers: number;
  readonly maxWorkers: number;
}

export type ConfigInput = Partial<RawConfig> & { app: string };

/** Fills defaults, validates, resolves paths; an error names the option, the value and what it expects. */
export function resolveConfig(input: ConfigInput): ClusterConfig {
  const withDefaults = {
    name: path.basename(input.app).replace(/\.[cm]?[jt]s$/, '').replace(/[^\w.-]/g, '_') || 'app',
    listen: [DEFAULTS.listen],
    scaleDownAfter: DEFAULTS.scaleDownAfter,
    eluFull: DEFAULTS.eluFull,
    eluIdle: DEFAULTS.eluIdle,
    queuePerWorker: DEFAULTS.queuePerWorker,
    queueSize: DEFAULTS.queueSize,
    workerConnections: DEFAULTS.workerConnections,
    parkAfter: DEFAULTS.parkAfter,
    keepAliveTimeout: DEFAULTS.keepAliveTimeout,
    maxParked: DEFAULTS.maxParked,
    headersTimeout: DEFAULTS.headersTimeout,
    requestTimeout: DEFAULTS.requestTimeout,
    maxHeaderSize: DEFAULTS.maxHeaderSize,
    shutdownTimeout: DEFAULTS.shutdownTimeout,
    drainTimeout: DEFAULTS.drainTimeout,
    workerTimeout: DEFAULTS.workerTimeout,
    maxRequests: 0,
    maxRequestsJitter: 0,
    maxMemory: 0,
    startTimeout: DEFAULTS.startTimeout,
    timeoutCheckInterval: DEFAULTS.timeoutCheckInterval,
    accessLog: true,
    logMaxSize: DEFAULTS.logMaxSize,
    logRetain: DEFAULTS.logRetain,
    logLevel: DEFAULTS.logLevel,
    ...stripUndefined(input),
  };
  const parsed = schema.safeParse(withDefaults);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path[0];
    const option = typeof key === 'string' ? `--${kebab(key)}` : 'config';
    const value = typeof key === 'string' ? (withDefaults as Record<string, unknown>)[key] : undefined;
    const what = issue?.code === 'unrecognized_keys' ? `unknown option ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue?.message;
    throw new RocketError('RC_ERR_CONFIG_INVALID', `${option} ${JSON.stringify(value)}: ${what}`);
  }
  const raw = parsed.data;
  if (raw.parkAfter > 0 && raw.parkAfter >= raw.keepAliveTimeout) {
    throw new RocketError(
      'RC_ERR_CONFIG_INVALID',
      `--park-after ${raw.parkAfter} must be below --keep-alive-timeout ${raw.keepAliveTimeout} (or 0 to never park), for example --park-after 1000 --keep-alive-timeout 5000`,
    );
  }
  if (raw.requestTimeout > 0 && raw.headersTimeout > raw.requestTimeout) {
    throw new RocketError(
      'RC_ERR_CONFIG_INVALID',
      `--headers-timeout ${raw.headersTimeout} must not exceed --request-timeout ${raw.requestTimeout} (or set --request-timeout 0)`,
    );
  }
  const { admin, listen, workers, minWorkers, maxWorkers, ...rest } = raw;
  if (workers !== undefined && (minWorkers !== undefined || maxWorkers !== undefined)) {
    throw new RocketError('RC_ERR_CONFIG_INVALID', `--workers ${workers} fixes the pool size: give either --workers, or --min-workers and --max-workers`);
  }
  const min = workers ?? minWorkers ?? DEFAULTS.minWorkers;
  const max = workers ?? maxWorkers ?? Math.max(min, usableCpus());
  if (min > max) {
    throw new RocketError('RC_ERR_CONFIG_INVALID', `--min-workers ${min} is above --max-workers ${max}, for example --min-workers 1 --max-workers 4`);
  }
  return {
    ...rest,
    minWorkers: min,
    maxWorkers: max,
    app: path.resolve(raw.app),
    listen: listen.map((l) => parseListenAddress(l)),
    ...(raw.logDir === undefined ? {} : { logDir: path.resolve(raw.logDir) }),
    ...(admin === undefined ? {} : { admin: parseListenAddress(admin, 'admin') }),
  };
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
