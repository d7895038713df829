import crypto from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import type { ListenAddress, TlsSettings } from '../shared/config.js';
import { RocketError } from '../shared/errors.js';
import type { TlsMaterial } from '../shared/protocol.js';
import { secureContextOptions } from '../shared/tls-context.js';

export interface LoadedTls {
  readonly listeners: readonly TlsMaterial[];
  /** Usable but worth saying: a certificate expired or not yet valid (clients will refuse it). */
  readonly warnings: readonly string[];
}

/**
 * Reads and checks the certificate and key of every https:// address, as a
 * worker will use them: at start (a failure stops the start before anything
 * binds) and at each reload (a failure refuses the reload, and the old workers
 * keep serving with what they have). Every error names the file at fault.
 */
export function loadTlsMaterial(listen: readonly ListenAddress[]): LoadedTls {
  const listeners: TlsMaterial[] = [];
  const warnings: string[] = [];
  listen.forEach((address, index) => {
    if (address.kind !== 'tcp' || !address.tls) return;
    const material = readMaterial(index, address.tls);
    warnings.push(...check(address.tls, material));
    listeners.push(material);
  });
  return { listeners, warnings };
}

function readMaterial(index: number, s: TlsSettings): TlsMaterial {
  return {
    index,
    cert: readPem(s.cert, '--tls-cert'),
    key: readPem(s.key, '--tls-key'),
    minVersion: s.minVersion,
    ...(s.ca === undefined ? {} : { ca: readPem(s.ca, '--tls-ca') }),
    ...(s.passphrase === undefined ? {} : { passphrase: s.passphrase }),
    ...(s.ciphers === undefined ? {} : { ciphers: s.ciphers }),
  };
}

function readPem(file: string, option: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw tlsError(`${option} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, error);
  }
}

/** Each part on its own first, so that the error names the file; then together, as the worker will build them. */
function check(s: TlsSettings, m: TlsMaterial): string[] {
  let cert: crypto.X509Certificate;
  try {
    cert = new crypto.X509Certificate(m.cert);
  } catch (error) {
    throw tlsError(`--tls-cert ${s.cert}: not a PEM certificate (${(error as Error).message})`, error);
  }
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(m.passphrase === undefined ? m.key : { key: m.key, passphrase: m.passphrase });
  } catch (error) {
    const hint = m.passphrase === undefined ? ' (an encrypted key needs --tls-passphrase)' : ' (or the passphrase is wrong)';
    throw tlsError(`--tls-key ${s.key}: not a usable PEM private key${hint}: ${(error as Error).message}`, error);
  }
  if (!cert.checkPrivateKey(key)) throw tlsError(`--tls-key ${s.key} does not match the certificate in --tls-cert ${s.cert}`);
  if (m.ca !== undefined && s.ca !== undefined) {
    try {
      new crypto.X509Certificate(m.ca);
    } catch (error) {
      throw tlsError(`--tls-ca ${s.ca}: not a PEM certificate (${(error as Error).message})`, error);
    }
  }
  try {
    tls.createSecureContext(secureContextOptions(m));
  } catch (error) {
    const culprit = m.ciphers === undefined ? `--tls-cert ${s.cert}` : `--tls-ciphers ${JSON.stringify(m.ciphers)}`;
    throw tlsError(`${culprit}: OpenSSL refused it (${(error as Error).message})`, error);
  }
  const now = Date.now();
  const warnings: string[] = [];
  if (Date.parse(cert.validTo) < now) warnings.push(`the certificate in ${s.cert} expired on ${cert.validTo}: clients will refuse it`);
  if (Date.parse(cert.validFrom) > now) warnings.push(`the certificate in ${s.cert} is not valid before ${cert.validFrom}: clients will refuse it`);
  return warnings;
}

function tlsError(message: string, cause?: unknown): RocketError {
  return new RocketError('RC_ERR_CONFIG_TLS', message, cause === undefined ? undefined : { cause });
}
