import { z } from 'zod';
import { DEFAULTS, MAX_WORKERS } from './defaults.js';
import { listenAddressProblem } from './listen-address.js';
import { staticMountProblem } from './static-mount.js';

/**
 * Every setting, defined once. The zod schema (src/shared/config.ts), the
 * command-line flags (src/config/cli.ts), the ROCKET_* environment variables
 * (src/config/env.ts) and the config-file keys (src/config/file-apps.ts) are
 * all derived from this table, and docs/CONFIG.md documents it (a unit test
 * checks the page lists every option). Keys are the file keys; the flag is
 * their kebab-case (`--min-workers`), the variable their ROCKET_SNAKE_CASE
 * (`ROCKET_MIN_WORKERS`).
 */

/**
 * How a value is written as text (environment variables, flags): it decides
 * how the text is parsed. `list`: comma-separated, a flag repeated; `words`:
 * split on whitespace, as a shell would (`--node-args "--import tsx"`), since
 * its items start with dashes; `object`: config files only.
 */
export type OptionKind = 'integer' | 'number' | 'string' | 'boolean' | 'list' | 'words' | 'object';

export interface OptionSpec {
  readonly kind: OptionKind;
  readonly schema: z.ZodType;
  /** What a valid value looks like, for error messages: "an integer from 1 to 256". */
  readonly expected: string;
  readonly describe: string;
  /** The value when no layer sets one; absent for options that are unset or computed (see defaultText). */
  readonly default?: number | string | boolean | readonly string[];
  /** How help and docs show a default that is computed or absent. */
  readonly defaultText?: string;
  readonly alias?: string;
  /** False for `app`, which the command line takes as its positional argument. */
  readonly flag: boolean;
  /** False where one value for every app makes no sense (`app`, `name`). */
  readonly env: boolean;
  /** A filesystem path (`path`), listen address(es) (`address`) or `[PREFIX=]DIR` items (`static`): relative paths are anchored (src/config/text.ts). */
  readonly paths?: 'path' | 'address' | 'static';
  /** Never shown in errors or by `config` (a passphrase). */
  readonly secret?: true;
}

const MAX_COUNT = 1_000_000;
const DAY_MS = 24 * 3600 * 1000;

const integer = (min: number, max = MAX_COUNT) =>
  ({ kind: 'integer', schema: z.number().int().min(min).max(max), expected: `an integer from ${min} to ${max}` }) as const;
const ms = (min: number) =>
  ({ kind: 'integer', schema: z.number().int().min(min).max(DAY_MS), expected: `a whole number of milliseconds from ${min} to ${DAY_MS} (24 h)` }) as const;
/** A listen address, with the precise reason (bad port, missing path) as the issue message. */
const address = z.string().superRefine((text, ctx) => {
  const problem = listenAddressProblem(text);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});
const ADDRESS_TEXT = 'host:port, https://host:port, [v6]:port or unix:/path';
const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
/** Octal permission bits of a unix socket file, as chmod takes them: 660, 0660 or 0o660. */
const SOCKET_MODE = /^(0o?)?[0-7]{3}$/;

/** One `listen` entry of a config file written as an object: an address with settings of its own. */
export interface ListenEntry {
  readonly address: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly tlsCa?: string;
  readonly tlsPassphrase?: string;
  readonly tlsMinVersion?: (typeof TLS_VERSIONS)[number];
  readonly tlsCiphers?: string;
  readonly socketMode?: string;
  readonly socketGroup?: string;
}

/** The settings a listen entry may carry: they override the top-level option of the same name for that address. */
export const LISTEN_ENTRY_KEYS = ['tlsCert', 'tlsKey', 'tlsCa', 'tlsPassphrase', 'tlsMinVersion', 'tlsCiphers', 'socketMode', 'socketGroup'] as const;

const listenEntry = z.strictObject({
  address,
  tlsCert: z.string().min(1).optional(),
  tlsKey: z.string().min(1).optional(),
  tlsCa: z.string().min(1).optional(),
  tlsPassphrase: z.string().optional(),
  tlsMinVersion: z.enum(TLS_VERSIONS).optional(),
  tlsCiphers: z.string().min(1).optional(),
  socketMode: z.string().regex(SOCKET_MODE).optional(),
  socketGroup: z.string().min(1).optional(),
});

/**
 * A `listen` item: an address, or (in a config file) an object with one. The
 * issue names the precise problem: zod's own union error would only say
 * that neither shape fits.
 */
const listenItem = z.unknown().transform((value, ctx): string | ListenEntry => {
  if (typeof value === 'string') {
    const problem = listenAddressProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    return value;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: `expected an address (${ADDRESS_TEXT}) or { address, tlsCert, tlsKey, … }` });
    return z.NEVER;
  }
  const parsed = listenEntry.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.code === 'unrecognized_keys' ? `unknown key ${JSON.stringify(issue.keys[0])} (known: address, ${LISTEN_ENTRY_KEYS.join(', ')})` : `${issue?.path.join('.') || 'entry'}: ${issue?.message ?? 'invalid'}`;
  ctx.addIssue({ code: 'custom', message: where });
  return z.NEVER;
});
/**
 * A `static` item: `DIR`, or `PREFIX=DIR` where PREFIX is a URL path starting
 * with "/" (split at the first "=": a DIR with "=" in it is written `/=DIR`).
 */
const staticItem = z.string().superRefine((text, ctx) => {
  const problem = staticMountProblem(text);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
const on = { flag: true, env: true } as const;
/** An environment variable's name: anything but '=' and NUL, as execve allows. */
const ENV_NAME = /^[^=\0]+$/;

export const OPTIONS = {
  app: {
    kind: 'string', schema: z.string().min(1).optional(), expected: 'a path to the app module', flag: false, env: false, paths: 'path',
    describe: 'app module: default-exports (req, res) => {}, or { fetch }, or calls server.listen()',
  },
  static: {
    kind: 'list', schema: z.array(staticItem), expected: 'one or more [PREFIX=]DIR, such as ./public or /assets=./build', ...on, paths: 'static',
    describe: 'serve the files of DIR (under URL PREFIX, default /) from the workers, before the app; repeatable. Without an app: a static file server (docs/STATIC.md)',
    default: [],
  },
  staticCacheControl: {
    kind: 'string', schema: z.string().min(1).regex(/^[\x20-\x7e]+$/), expected: 'a Cache-Control value such as "public, max-age=3600"', ...on,
    describe: 'Cache-Control header of files served by --static', default: 'public, max-age=0',
  },
  staticReadSize: {
    ...integer(16, 16384), ...on, default: 1024,
    describe: 'KB: a --static file up to this size is read whole, in one read, and sent in one write; a larger one streams in chunks of 256 KB (or this, if smaller)',
  },
  staticDotfiles: {
    kind: 'string', schema: z.enum(['ignore', 'deny', 'allow']), expected: 'ignore, deny or allow', ...on, default: 'ignore',
    describe: 'paths with a segment starting with "." under --static: ignore (not found: to the app, else 404), deny (403) or allow',
  },
  name: {
    kind: 'string', schema: z.string().min(1).regex(/^[\w.-]+$/), expected: 'a name of letters, digits, ".", "_" and "-"', flag: true, env: false,
    describe: 'cluster name in logs', defaultText: "the app's file name",
  },
  cwd: {
    kind: 'string', schema: z.string().min(1).optional(), expected: 'a directory path', flag: true, env: false, paths: 'path',
    describe: "the workers' working directory (the app's process.cwd())", defaultText: 'the directory rocket-cluster was started in',
  },
  env: {
    kind: 'object', schema: z.record(z.string().regex(ENV_NAME), z.union([z.string(), z.number(), z.boolean()])).optional(), expected: 'an object of environment variables, { NAME: "value", … }',
    flag: false, env: false,
    describe: "environment variables the workers get on top of rocket-cluster's own (config file only; env_<name> sets are chosen with --env <name>)",
  },
  nodeArgs: {
    kind: 'words', schema: z.array(z.string().min(1)).optional(), expected: 'Node options, for example ["--import", "tsx"]', ...on,
    describe: 'Node options for the workers, split on spaces; written with "=" since they start with dashes: --node-args="--import tsx --max-old-space-size=512"',
  },
  args: {
    kind: 'words', schema: z.array(z.string()).optional(), expected: 'a list of arguments', flag: true, env: false,
    describe: "the app's arguments (its process.argv after the app's path), split on spaces: --args=\"--port 3000\"",
  },
  listen: {
    kind: 'list', schema: z.array(listenItem).min(1), expected: `one or more addresses: ${ADDRESS_TEXT}`, ...on, alias: 'l', paths: 'address',
    describe: `address to bind, repeatable: ${ADDRESS_TEXT} (https:// needs --tls-cert and --tls-key)`, default: [DEFAULTS.listen],
  },
  tlsCert: {
    kind: 'string', schema: z.string().min(1).optional(), expected: 'a path to a PEM certificate (chain)', ...on, paths: 'path',
    describe: 'PEM certificate, with its chain, for https:// addresses; re-read on reload', defaultText: 'none',
  },
  tlsKey: {
    kind: 'string', schema: z.string().min(1).optional(), expected: 'a path to a PEM private key', ...on, paths: 'path',
    describe: 'PEM private key of --tls-cert; re-read on reload', defaultText: 'none',
  },
  tlsCa: {
    kind: 'string', schema: z.string().min(1).optional(), expected: 'a path to PEM CA certificates', ...on, paths: 'path',
    describe: 'PEM CA certificates trusted for client certificates (asked for, not required)', defaultText: 'none',
  },
  tlsPassphrase: {
    kind: 'string', schema: z.string().optional(), expected: 'a passphrase', ...on, secret: true,
    describe: 'passphrase of an encrypted --tls-key (better in ROCKET_TLS_PASSPHRASE than on a command line)', defaultText: 'none',
  },
  tlsMinVersion: {
    kind: 'string', schema: z.enum(TLS_VERSIONS), expected: TLS_VERSIONS.join(' or '), ...on,
    describe: 'oldest TLS version accepted', default: 'TLSv1.2',
  },
  tlsCiphers: {
    kind: 'string', schema: z.string().min(1).optional(), expected: 'an OpenSSL cipher list', ...on,
    describe: "TLS 1.2 cipher list in OpenSSL's format", defaultText: "Node's default",
  },
  http2: {
    kind: 'boolean', schema: z.boolean(), expected: 'true or false', ...on,
    describe: 'serve HTTP/2 on the https:// addresses, with HTTP/1.1 for clients that do not offer it (ALPN); the app gets the compatibility API request and response', default: false,
  },
  socketMode: {
    kind: 'string', schema: z.string().regex(SOCKET_MODE).optional(), expected: 'octal permission bits such as 0660', ...on,
    describe: 'permissions of unix: socket files, for example 0660 so that a web server in --socket-group can connect', defaultText: 'from the umask',
  },
  socketGroup: {
    kind: 'string', schema: z.string().min(1).optional(), expected: 'a group name or GID', ...on,
    describe: 'group of unix: socket files (with --socket-mode 0660: the group that may connect)', defaultText: "the master's group",
  },
  user: {
    kind: 'string', schema: z.string().min(1).optional(), expected: 'a user name or UID', ...on,
    describe: 'started as root: bind every address, then run every process as this user (no supplementary groups)', defaultText: 'the user that starts it',
  },
  group: {
    kind: 'string', schema: z.string().min(1).optional(), expected: 'a group name or GID', ...on,
    describe: "with --user: the group every process runs as", defaultText: "--user's primary group",
  },
  workers: {
    ...integer(1, MAX_WORKERS), schema: integer(1, MAX_WORKERS).schema.optional(), ...on, alias: 'w',
    describe: 'a fixed pool of N workers: shorthand for --min-workers N --max-workers N',
  },
  minWorkers: { ...integer(1, MAX_WORKERS), schema: integer(1, MAX_WORKERS).schema.optional(), ...on, describe: 'fewest worker processes', default: DEFAULTS.minWorkers },
  maxWorkers: {
    ...integer(1, MAX_WORKERS), schema: integer(1, MAX_WORKERS).schema.optional(), ...on,
    describe: 'most worker processes', defaultText: 'the CPUs this process may use, cgroup quota included',
  },
  eluFull: {
    kind: 'number', schema: z.number().gt(0).max(1), expected: 'a number above 0 and at most 1', ...on,
    describe: 'event-loop utilization (0-1) at which a worker counts as full', default: DEFAULTS.eluFull,
  },
  eluIdle: {
    kind: 'number', schema: z.number().min(0).lt(1), expected: 'a number from 0 to less than 1', ...on,
    describe: 'average event-loop utilization (0-1) under which the pool may shrink', default: DEFAULTS.eluIdle,
  },
  queuePerWorker: { ...integer(1), ...on, describe: 'waiting connections per extra worker when the pool grows', default: DEFAULTS.queuePerWorker },
  scaleDownAfter: { ...ms(0), ...on, describe: 'ms the pool must be idle before one worker retires (and between two retirements)', default: DEFAULTS.scaleDownAfter },
  poolMemorySoft: {
    ...integer(1), schema: integer(1).schema.optional(), ...on, defaultText: 'off',
    describe: "MB of the workers' total RSS above which the pool does not grow (at most --pool-memory-hard)",
  },
  poolMemoryHard: {
    ...integer(1), schema: integer(1).schema.optional(), ...on, defaultText: 'off',
    describe: "MB of the workers' total RSS above which the pool does not grow and workers retire, one at a time, down to --min-workers",
  },
  accept: {
    kind: 'string', schema: z.enum(['workers', 'master']), expected: 'workers or master', ...on, default: 'workers',
    describe: 'who accepts new connections: workers with room, on the listening sockets the master shares (no IPC hop), or the master for every one',
  },
  sticky: {
    kind: 'string', schema: z.enum(['none', 'ip']), expected: 'none or ip', ...on, default: 'none',
    describe: 'ip: connections from one client address go to the same worker while it lives (its addresses move together to one other worker when it retires or dies); the master then accepts every connection (--accept master) and nothing is rebalanced',
  },
  queueSize: { ...integer(1), ...on, describe: 'connections waiting for a worker before new ones get 503', default: DEFAULTS.queueSize },
  queueTimeout: {
    ...ms(0), ...on, default: DEFAULTS.queueTimeout,
    describe: 'ms a connection may wait in the queue for a worker before it gets 503 (Retry-After); 0 for no bound',
  },
  workerConnections: { ...integer(1), ...on, describe: 'connections one worker serves at once', default: DEFAULTS.workerConnections },
  parkAfter: { ...ms(0), ...on, describe: 'ms a keep-alive connection idles in a worker before it is parked; 0 never parks', default: DEFAULTS.parkAfter },
  parkWhen: {
    kind: 'string', schema: z.enum(['pressure', 'idle']), expected: 'pressure or idle', ...on, default: DEFAULTS.parkWhen,
    describe: 'pressure: a worker parks idle connections only while it holds 90% of --worker-connections (else it keeps them, as Node does); idle: every connection idle for --park-after parks (per-request balancing)',
  },
  keepAliveTimeout: { ...ms(1), ...on, describe: 'ms an idle keep-alive connection is kept in all', default: DEFAULTS.keepAliveTimeout },
  maxParked: { ...integer(0), ...on, describe: 'idle connections the monitor holds; beyond it a parked connection is closed', default: DEFAULTS.maxParked },
  headersTimeout: { ...ms(1), ...on, describe: 'ms to receive request headers, else 408', default: DEFAULTS.headersTimeout },
  requestTimeout: { ...ms(0), ...on, describe: 'ms to receive a whole request, else 408; 0 for none', default: DEFAULTS.requestTimeout },
  maxHeaderSize: { ...integer(1024), ...on, describe: 'bytes of request head, else 431', default: DEFAULTS.maxHeaderSize },
  shutdownTimeout: { ...ms(0), ...on, describe: 'ms a graceful stop may take before processes are killed', default: DEFAULTS.shutdownTimeout },
  shutdownDelay: {
    ...ms(0), ...on, default: 0,
    describe: 'ms to keep accepting and serving after SIGTERM/SIGINT, with /readyz answering 503, before the graceful stop (Kubernetes: a few seconds, under terminationGracePeriodSeconds)',
  },
  drainTimeout: {
    ...ms(0), ...on, default: DEFAULTS.drainTimeout,
    describe: 'ms a leaving worker (reload, scale-down, recycling; in a stop, within --shutdown-timeout) may take to finish its requests and run the app shutdown hook before it is killed',
  },
  workerTimeout: { ...ms(1000), ...on, describe: 'ms a worker or the monitor may go without a heartbeat before it is killed and replaced', default: DEFAULTS.workerTimeout },
  maxRequests: { ...integer(0), ...on, describe: 'recycle a worker after this many requests; 0 never', default: 0 },
  maxRequestsJitter: {
    ...integer(0), ...on, default: 0,
    describe: 'add up to this many (random per worker) to --max-requests, so workers do not recycle together',
  },
  maxMemory: { ...integer(0), ...on, describe: 'recycle a worker whose RSS exceeds this many MB; 0 never', default: 0 },
  startTimeout: { ...ms(100), ...on, describe: 'ms for workers and the monitor to get ready (and for a script to call listen())', default: DEFAULTS.startTimeout },
  timeoutCheckInterval: {
    ...ms(10), ...on, default: DEFAULTS.timeoutCheckInterval,
    describe: 'ms between checks of headers/request timeouts; a 408 can be this late',
  },
  admin: {
    kind: 'string', schema: address.optional(), expected: `an address: ${ADDRESS_TEXT}`, ...on, paths: 'address',
    describe: 'address for the admin listener: live dashboard at /, Prometheus /metrics, JSON /status; for example 127.0.0.1:9090', defaultText: 'off',
  },
  accessLog: { kind: 'boolean', schema: z.boolean(), expected: 'true or false', ...on, describe: 'one log line per request', default: true },
  logLevel: {
    kind: 'string', schema: z.enum(LOG_LEVELS), expected: `one of ${LOG_LEVELS.join(', ')}`, ...on,
    describe: `${LOG_LEVELS.slice(0, -1).join(', ')} or silent`, default: DEFAULTS.logLevel,
  },
  logDir: {
    kind: 'string', schema: z.string().min(1).optional(), expected: 'a directory path', ...on, paths: 'path',
    describe: "directory for the cluster's log files (a daemon's, or a foreground cluster's when given)", defaultText: 'stdout in the foreground, ~/.rocket-cluster/logs for a daemon (/var/log/rocket-cluster when started as root with --user)',
  },
  logMaxSize: {
    kind: 'string', schema: z.string().regex(/^\d+[kmg]$/), expected: 'a size such as 500k, 10m or 1g', ...on,
    describe: 'size at which a log file rotates: a number and k, m or g', default: DEFAULTS.logMaxSize,
  },
  logRetain: { ...integer(0, 1000), ...on, describe: 'rotated log files kept besides the current one', default: DEFAULTS.logRetain },
} as const satisfies Record<string, OptionSpec>;

export type OptionKey = keyof typeof OPTIONS;

export const OPTION_KEYS = Object.keys(OPTIONS) as OptionKey[];

export function isOptionKey(key: string): key is OptionKey {
  return Object.hasOwn(OPTIONS, key);
}

/** `minWorkers` → `min-workers` (the flag, without its dashes). */
export function kebabCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `minWorkers` → `ROCKET_MIN_WORKERS`. */
export function envName(key: OptionKey): string {
  return `ROCKET_${kebabCase(key).replace(/-/g, '_').toUpperCase()}`;
}

/** How help and docs show an option's default. */
export function defaultText(key: OptionKey): string | undefined {
  const spec: OptionSpec = OPTIONS[key];
  if (spec.defaultText !== undefined) return spec.defaultText;
  if (spec.default === undefined) return undefined;
  return Array.isArray(spec.default) ? spec.default.join(', ') : String(spec.default);
}
