import path from 'node:path';
import { RocketError } from './errors.js';

/**
 * TLS for one listen address, terminated in the workers: file paths (read by
 * the master, which sends their contents to each worker it starts) and the
 * handshake settings.
 */
export interface TlsSettings {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
  readonly passphrase?: string;
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  readonly ciphers?: string;
}

export type ListenAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly tls?: TlsSettings }
  /** `mode` (e.g. 0o660) and `group`: who may connect, set on the socket file once bound. */
  | { readonly kind: 'unix'; readonly path: string; readonly mode?: number; readonly group?: string };

const LISTEN_EXAMPLE = 'expected host:port, http://host:port, https://host:port, [v6]:port or unix:/path, for example 127.0.0.1:8080';
const UNIX = 'unix:';
const SCHEME = /^(https?):\/\/(.*?)\/?$/;

/** `https://host:port` → { https: true, rest: 'host:port' }; text without a scheme is plain HTTP. */
export function splitScheme(text: string): { readonly https: boolean; readonly rest: string } {
  const match = SCHEME.exec(text);
  return match ? { https: match[1] === 'https', rest: match[2] ?? '' } : { https: false, rest: text };
}

/** What is wrong with an address, as "expected …" text, or undefined when it is well-formed. */
export function listenAddressProblem(text: string): string | undefined {
  const { https, rest } = splitScheme(text);
  if (rest.startsWith(UNIX)) {
    if (rest !== text) return `${https ? 'TLS' : 'a scheme'} on a unix socket is not supported: write unix:/path (plain HTTP, as nginx's proxy_pass to a unix socket expects)`;
    return rest === UNIX ? 'unix: needs a path, for example unix:/run/app.sock' : undefined;
  }
  const match = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(rest) ?? /^([^:[\]/]+):(\d+)$/.exec(rest);
  if (!match) return LISTEN_EXAMPLE;
  const port = Number(match[2]);
  return port > 65535 ? 'port must be 0 to 65535' : undefined;
}

/**
 * Parses `host:port`, `http://host:port`, `https://host:port`, `[v6]:port` or
 * `unix:/path`; throws a coded error naming the value. An `https://` address
 * comes back without its TLS settings: the config adds them (resolveConfig
 * tells it apart with `splitScheme`).
 */
export function parseListenAddress(text: string, option = 'listen'): ListenAddress {
  const problem = listenAddressProblem(text);
  if (problem !== undefined) throw new RocketError('RC_ERR_CONFIG_INVALID', `--${option} ${JSON.stringify(text)}: ${problem}`);
  const { rest } = splitScheme(text);
  if (rest.startsWith(UNIX)) return { kind: 'unix', path: path.resolve(rest.slice(UNIX.length)) };
  const colon = rest.lastIndexOf(':');
  const host = rest.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { kind: 'tcp', host, port: Number(rest.slice(colon + 1)) };
}

/** The address as `--listen` takes it: `https://` for a TLS one. */
export function formatListenAddress(a: ListenAddress): string {
  if (a.kind === 'unix') return `unix:${a.path}`;
  const hostPort = a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
  return a.tls ? `https://${hostPort}` : hostPort;
}

/**
 * Makes a relative `unix:` path absolute against `base`: a config file's
 * directory for its own addresses, the working directory for flags and the
 * environment, so an address means the same socket wherever the master runs.
 */
export function anchorListenAddress(text: string, base: string): string {
  if (!text.startsWith(UNIX) || text === UNIX) return text;
  return UNIX + path.resolve(base, text.slice(UNIX.length));
}
