import path from 'node:path';
import { RocketError } from './errors.js';

export type ListenAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

const LISTEN_EXAMPLE = 'expected host:port, [v6]:port or unix:/path, for example 127.0.0.1:8080';
const UNIX = 'unix:';

/** What is wrong with an address, as "expected …" text, or undefined when it is well-formed. */
export function listenAddressProblem(text: string): string | undefined {
  if (text.startsWith(UNIX)) return text === UNIX ? 'unix: needs a path, for example unix:/run/app.sock' : undefined;
  const match = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (!match) return LISTEN_EXAMPLE;
  const port = Number(match[2]);
  return port > 65535 ? 'port must be 0 to 65535' : undefined;
}

/** Parses `host:port`, `[v6]:port` or `unix:/path`; throws a coded error naming the value. */
export function parseListenAddress(text: string, option = 'listen'): ListenAddress {
  const problem = listenAddressProblem(text);
  if (problem !== undefined) throw new RocketError('RC_ERR_CONFIG_INVALID', `--${option} ${JSON.stringify(text)}: ${problem}`);
  if (text.startsWith(UNIX)) return { kind: 'unix', path: path.resolve(text.slice(UNIX.length)) };
  const colon = text.lastIndexOf(':');
  const host = text.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { kind: 'tcp', host, port: Number(text.slice(colon + 1)) };
}

export function formatListenAddress(a: ListenAddress): string {
  if (a.kind === 'unix') return `unix:${a.path}`;
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
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
