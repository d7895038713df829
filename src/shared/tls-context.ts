import type tls from 'node:tls';
import type { TlsMaterial } from './protocol.js';

/**
 * The secure context of one https:// address, as every worker builds it and
 * as the master checks it before a start or reload: one definition, so what
 * the master accepts is what the workers serve.
 */
export function secureContextOptions(m: TlsMaterial): tls.SecureContextOptions {
  return {
    cert: m.cert,
    key: m.key,
    minVersion: m.minVersion,
    ...(m.ca === undefined ? {} : { ca: m.ca }),
    ...(m.passphrase === undefined ? {} : { passphrase: m.passphrase }),
    ...(m.ciphers === undefined ? {} : { ciphers: m.ciphers }),
  };
}
