import type { ClusterConfig, ConfigKey, ListenAddress } from '../shared/config.js';

/**
 * What a reload gives the new workers from the config as it is now. These are
 * read by the workers alone (the app, its process, how a request is parsed,
 * TLS certificates, how static files are served): a new worker simply
 * starts with them. Every other setting is also read by the master
 * (listeners, pool bounds, queue, timers, identity, the static directories
 * it checks at start) and changes only with a new master: `rocket-cluster
 * upgrade`.
 */
export const RELOADED_KEYS: readonly ConfigKey[] = [
  'app',
  'cwd',
  'env',
  'nodeArgs',
  'args',
  'accessLog',
  'headersTimeout',
  'requestTimeout',
  'maxHeaderSize',
  'tlsCert',
  'tlsKey',
  'tlsCa',
  'tlsPassphrase',
  'tlsMinVersion',
  'tlsCiphers',
  'http2',
  'staticCacheControl',
  'staticDotfiles',
  'staticReadSize',
];

export interface Reconfigured {
  /** The config new workers start with: the running one, with every reloaded setting from `fresh`. */
  readonly workers: ClusterConfig;
  /** Reloaded settings whose value changed. */
  readonly applied: readonly string[];
  /** Settings that changed but wait for an upgrade (or a restart). */
  readonly needsUpgrade: readonly string[];
}

/**
 * Splits the differences between the running config and the one read again
 * for a reload. The listen addresses stay the master's; only the TLS
 * settings of an address that is still there (same position, same address)
 * are taken, so a renewed certificate's new path is served.
 */
export function reconfigure(running: ClusterConfig, fresh: ClusterConfig): Reconfigured {
  const keys = new Set([...Object.keys(running), ...Object.keys(fresh)] as ConfigKey[]);
  const changed = [...keys].filter((key) => !same(running[key], fresh[key]));
  const reloaded = new Set<string>(RELOADED_KEYS);
  const picked = Object.fromEntries(RELOADED_KEYS.map((key) => [key, fresh[key]]));
  const listen = running.listen.map((address, i) => withTls(address, fresh.listen[i]));
  const listenTlsOnly = changed.includes('listen') && same(running.listen.map(withoutTls), fresh.listen.map(withoutTls));
  return {
    workers: { ...running, ...picked, listen },
    applied: changed.filter((key) => reloaded.has(key) || (key === 'listen' && listenTlsOnly)),
    needsUpgrade: changed.filter((key) => !reloaded.has(key) && !(key === 'listen' && listenTlsOnly)),
  };
}

function withTls(running: ListenAddress, fresh: ListenAddress | undefined): ListenAddress {
  if (running.kind !== 'tcp' || fresh?.kind !== 'tcp' || !same(withoutTls(running), withoutTls(fresh))) return running;
  const plain = { kind: 'tcp', host: running.host, port: running.port } as const;
  return fresh.tls === undefined ? plain : { ...plain, tls: fresh.tls };
}

function withoutTls(address: ListenAddress): ListenAddress {
  return address.kind === 'tcp' ? { kind: 'tcp', host: address.host, port: address.port } : address;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
