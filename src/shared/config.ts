import path from 'node:path';
import { z } from 'zod';
import { parseListenAddress, splitScheme, type ListenAddress, type TlsSettings } from './listen-address.js';
import { OPTIONS, kebabCase, type ListenEntry, type OptionKey, type OptionSpec } from './options.js';
import { closest } from './suggest.js';
import { usableCpus } from './cpus.js';
import { RocketError } from './errors.js';
import { splitStaticMount, type StaticMount } from './static-mount.js';

export { formatListenAddress, parseListenAddress, type ListenAddress, type TlsSettings } from './listen-address.js';

type Options = typeof OPTIONS;

/** The one schema for every setting, derived from the option table (src/config/options.ts). */
const schema = z.strictObject(Object.fromEntries(Object.entries(OPTIONS).map(([key, spec]) => [key, spec.schema])) as { [K in OptionKey]: Options[K]['schema'] });

type RawConfig = z.infer<typeof schema>;

export interface ClusterConfig extends Omit<RawConfig, 'app' | 'static' | 'listen' | 'admin' | 'workers' | 'minWorkers' | 'maxWorkers'> {
  /** The app module; absent for a static file server (`--static` only). */
  readonly app?: string;
  /** `--static` directories, in the order given (the first whose prefix matches a request serves it). */
  readonly static: readonly StaticMount[];
  readonly listen: readonly ListenAddress[];
  readonly admin?: ListenAddress;
  readonly minWorkers: number;
  readonly maxWorkers: number;
}

/** A setting of the resolved config (everything but `workers`, which resolves into the two bounds). */
export type ConfigKey = keyof ClusterConfig;

export type ConfigInput = Partial<RawConfig>;

/** The name of a cluster with no app, only `--static` directories. */
export const STATIC_ONLY_NAME = 'static';

/**
 * Names a value in an error message, with where it came from when that is
 * known: `--workers 0`, `ROCKET_WORKERS="0"`, `workers 0 (in /srv/rocket.config.mjs)`.
 */
export type DescribeValue = (key: OptionKey, value: unknown) => string;

const asFlag: DescribeValue = (key, value) => `--${kebabCase(key)} ${JSON.stringify(value)}`;

/** The cluster name an app gets when none is given: its file name without the extension. */
export function defaultAppName(app: string): string {
  return path.basename(app).replace(/\.[cm]?[jt]s$/, '').replace(/[^\w.-]/g, '_') || 'app';
}

/**
 * The error for a value that fails its option's schema: what the value is,
 * where it came from, and what is expected.
 */
function invalidValue(key: OptionKey, value: unknown, issue: z.core.$ZodIssue | undefined, describe: DescribeValue): RocketError {
  // A bad item of a list is named itself ("localhost"), not the whole list.
  const item = typeof issue?.path[0] === 'number' && Array.isArray(value) ? (value[issue.path[0]] as unknown) : value;
  const spec: OptionSpec = OPTIONS[key];
  const expected = issue?.code === 'custom' ? issue.message : `expected ${spec.expected}`;
  return new RocketError('RC_ERR_CONFIG_INVALID', `${describe(key, item)}: ${expected}`);
}

/** Checks one value against its option's schema; throws the coded error `invalidValue` builds. */
export function checkValue(key: OptionKey, value: unknown, describe: DescribeValue = asFlag): void {
  const parsed = OPTIONS[key].schema.safeParse(value);
  if (!parsed.success) throw invalidValue(key, value, parsed.error.issues[0], describe);
}

/**
 * Fills defaults, validates, resolves paths and checks the options that
 * depend on each other. An error names the option, the value and what it
 * expects; `describe` says how to name a value (by default as a flag).
 */
export function resolveConfig(input: ConfigInput, describe: DescribeValue = asFlag): ClusterConfig {
  const withDefaults: Record<string, unknown> = { name: input.app === undefined ? STATIC_ONLY_NAME : defaultAppName(input.app) };
  for (const [key, spec] of Object.entries(OPTIONS) as [OptionKey, OptionSpec][]) {
    // The pool bounds default below, once it is known whether `workers` fixes them.
    if (spec.default !== undefined && key !== 'minWorkers') withDefaults[key] = spec.default;
  }
  for (const [key, value] of Object.entries(input)) if (value !== undefined) withDefaults[key] = value;
  const parsed = schema.safeParse(withDefaults);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      const [unknown = ''] = issue.keys;
      const hint = closest(unknown, Object.keys(OPTIONS));
      throw new RocketError('RC_ERR_CONFIG_INVALID', `unknown option ${JSON.stringify(unknown)}${hint ? `: did you mean ${JSON.stringify(hint)}?` : ''}`);
    }
    const key = issue?.path[0] as OptionKey;
    throw invalidValue(key, withDefaults[key], issue && { ...issue, path: issue.path.slice(1) }, describe);
  }
  const raw = parsed.data;
  checkTimeouts(raw, describe);
  const { admin, workers, minWorkers, maxWorkers, app, static: statics, ...rest } = raw;
  if (app === undefined && statics.length === 0) {
    throw new RocketError(
      'RC_ERR_CONFIG_APP',
      'no app to run and no --static directory to serve: give an app, for example rocket-cluster start ./app.js, or files, for example rocket-cluster start --static ./public',
    );
  }
  if (workers !== undefined && (minWorkers !== undefined || maxWorkers !== undefined)) {
    throw new RocketError('RC_ERR_CONFIG_INVALID', `${describe('workers', workers)} fixes the pool size: give either --workers, or --min-workers and --max-workers`);
  }
  const min = workers ?? minWorkers ?? OPTIONS.minWorkers.default;
  const max = workers ?? maxWorkers ?? Math.max(min, usableCpus());
  if (min > max) {
    throw new RocketError('RC_ERR_CONFIG_INVALID', `${describe('minWorkers', min)} is above ${describe('maxWorkers', max)}, for example --min-workers 1 --max-workers 4`);
  }
  const { poolMemorySoft: soft, poolMemoryHard: hard } = raw;
  if (soft !== undefined && hard !== undefined && soft > hard) {
    throw new RocketError('RC_ERR_CONFIG_INVALID', `${describe('poolMemorySoft', soft)} is above ${describe('poolMemoryHard', hard)}: growth stops at the soft limit, retirements start at the hard one, for example --pool-memory-soft 1500 --pool-memory-hard 2000`);
  }
  return {
    ...rest,
    // Read whole by resolveListen: it needs the TLS and socket options beside it.
    listen: resolveListen(raw, describe),
    minWorkers: min,
    maxWorkers: max,
    ...(app === undefined ? {} : { app: path.resolve(app) }),
    static: statics.map((text) => {
      const mount = splitStaticMount(text);
      return { prefix: mount.prefix, dir: path.resolve(mount.dir) };
    }),
    ...(raw.logDir === undefined ? {} : { logDir: path.resolve(raw.logDir) }),
    ...(admin === undefined ? {} : { admin: resolveAdmin(admin, describe) }),
  };
}

/**
 * Each listen entry with its own settings: TLS for an `https://` address,
 * permissions for a `unix:` one. A setting of an entry object wins over the
 * top-level option of the same name. TLS options that no `https://` address
 * would use are an error: a certificate given for a plain port is a typo, not
 * a wish to serve plain HTTP.
 */
function resolveListen(raw: RawConfig, describe: DescribeValue): ListenAddress[] {
  const entries: ListenEntry[] = raw.listen.map((item) => (typeof item === 'string' ? { address: item } : item));
  const resolved = entries.map((entry): ListenAddress => {
    const address = parseListenAddress(entry.address);
    const pick = <K extends 'tlsCert' | 'tlsKey' | 'tlsCa' | 'tlsPassphrase' | 'tlsCiphers' | 'socketMode' | 'socketGroup'>(key: K) => entry[key] ?? raw[key];
    if (address.kind === 'unix') {
      const mode = pick('socketMode');
      const group = pick('socketGroup');
      return { ...address, ...(mode === undefined ? {} : { mode: parseInt(mode.replace(/^0o/, ''), 8) }), ...(group === undefined ? {} : { group }) };
    }
    if (!splitScheme(entry.address).https) return address;
    const cert = pick('tlsCert');
    const key = pick('tlsKey');
    if (cert === undefined || key === undefined) {
      throw new RocketError(
        'RC_ERR_CONFIG_INVALID',
        `${describe('listen', entry.address)} needs a certificate and its key: add --tls-cert FILE --tls-key FILE (or tlsCert and tlsKey in its listen entry)`,
      );
    }
    const optional = { ca: pick('tlsCa'), passphrase: pick('tlsPassphrase'), ciphers: pick('tlsCiphers') };
    const tls: TlsSettings = {
      cert: path.resolve(cert),
      key: path.resolve(key),
      minVersion: entry.tlsMinVersion ?? raw.tlsMinVersion,
      ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
      ...(optional.ca === undefined ? {} : { ca: path.resolve(optional.ca) }),
    };
    return { ...address, tls };
  });
  const anyTls = resolved.some((a) => a.kind === 'tcp' && a.tls !== undefined);
  // HTTP/2 is chosen in the TLS handshake (ALPN); cleartext HTTP/2 (h2c) is not served.
  if (raw.http2 && !anyTls) throw new RocketError('RC_ERR_CONFIG_INVALID', `${describe('http2', true)} needs an https:// listen address: HTTP/2 is negotiated in the TLS handshake`);
  for (const key of ['tlsCert', 'tlsKey', 'tlsCa', 'tlsPassphrase', 'tlsCiphers'] as const) {
    if (raw[key] !== undefined && !anyTls) {
      throw new RocketError('RC_ERR_CONFIG_INVALID', `${describe(key, key === 'tlsPassphrase' ? '(hidden)' : raw[key])} is set, but no listen address is https://: add --listen https://HOST:PORT`);
    }
  }
  return resolved;
}

/** The admin listener serves plain HTTP (dashboard, /metrics, /status): put it on loopback or behind a proxy. */
function resolveAdmin(admin: string, describe: DescribeValue): ListenAddress {
  if (splitScheme(admin).https) {
    throw new RocketError('RC_ERR_CONFIG_INVALID', `${describe('admin', admin)}: the admin listener serves plain HTTP only; give host:port (on loopback, or behind a TLS proxy)`);
  }
  return parseListenAddress(admin, 'admin');
}

/**
 * Orders between timeouts: a connection must park before its keep-alive time
 * is up, and Node itself refuses headersTimeout > requestTimeout (in every
 * worker, at createServer); failing here names the options and their sources.
 */
function checkTimeouts(raw: RawConfig, describe: DescribeValue): void {
  if (raw.parkAfter > 0 && raw.parkAfter >= raw.keepAliveTimeout) {
    throw new RocketError(
      'RC_ERR_CONFIG_INVALID',
      `${describe('parkAfter', raw.parkAfter)} must be below ${describe('keepAliveTimeout', raw.keepAliveTimeout)} (or 0 to never park), for example --park-after 1000 --keep-alive-timeout 5000`,
    );
  }
  if (raw.requestTimeout > 0 && raw.headersTimeout > raw.requestTimeout) {
    throw new RocketError(
      'RC_ERR_CONFIG_INVALID',
      `${describe('headersTimeout', raw.headersTimeout)} must not exceed ${describe('requestTimeout', raw.requestTimeout)} (or set --request-timeout 0)`,
    );
  }
}
