import fs from 'node:fs';
import os from 'node:os';

/**
 * What a descriptor this process was handed is, read from Linux's /proc
 * (socket activation is systemd's, so Linux's): /proc/self/fd/N names the
 * socket's inode, and /proc/self/net/{tcp,tcp6,unix} list every socket of the
 * process's network namespace with its inode, state and local address. Node
 * could say some of it only once the descriptor is wrapped in a handle, and
 * the master must know what it serves before it starts its workers, which
 * bind nothing but learn the addresses from the config.
 */
export type PassedSocket =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly listening: boolean }
  | { readonly kind: 'unix'; readonly path: string | null; readonly listening: boolean }
  /** Anything else (a UDP or datagram socket, a file): `what` says which, for the error. */
  | { readonly kind: 'other'; readonly what: string };

/** TCP_LISTEN in /proc/net/tcp's `st` column. */
const TCP_LISTEN = '0A';
/** __SO_ACCEPTCON in /proc/net/unix's `Flags` column: the socket listens. */
const UNIX_ACCEPTCON = 0x10000;
const UNIX_STREAM = '0001';

/** What descriptor `fd` is. */
export function describeFd(fd: number, proc = '/proc/self'): PassedSocket {
  let link: string;
  try {
    link = fs.readlinkSync(`${proc}/fd/${fd}`);
  } catch (error) {
    return { kind: 'other', what: `not an open descriptor (${(error as NodeJS.ErrnoException).code})` };
  }
  const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
  if (inode === undefined) return { kind: 'other', what: `not a socket (${link})` };
  for (const table of ['tcp', 'tcp6'] as const) {
    const row = findRow(`${proc}/net/${table}`, 9, inode);
    if (row) {
      const [hexHost, hexPort] = row[1]!.split(':') as [string, string];
      return { kind: 'tcp', host: hostFromHex(hexHost), port: parseInt(hexPort, 16), listening: row[3] === TCP_LISTEN };
    }
  }
  const unix = findRow(`${proc}/net/unix`, 6, inode);
  if (unix) {
    if (unix[4] !== UNIX_STREAM) return { kind: 'other', what: 'a unix socket that is not a stream socket' };
    const path = unix.length > 7 ? unix.slice(7).join(' ') : null;
    return { kind: 'unix', path, listening: (parseInt(unix[3]!, 16) & UNIX_ACCEPTCON) !== 0 };
  }
  return { kind: 'other', what: 'a socket of another kind, or of another network namespace (PrivateNetwork=)' };
}

/** The whitespace-separated fields of the row of `file` whose column `column` is `inode`. */
function findRow(file: string, column: number, inode: string): string[] | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[column] === inode) return fields;
  }
  return undefined;
}

/**
 * /proc prints an address as 32-bit words in the machine's byte order: IPv4
 * 127.0.0.1 is `0100007F` on x86. IPv6 is written in its canonical short form
 * (WHATWG's URL serializer implements RFC 5952's).
 */
export function hostFromHex(hex: string, endianness = os.endianness()): string {
  const bytes = Buffer.alloc(hex.length / 2);
  for (let i = 0; i < hex.length / 8; i++) {
    const word = parseInt(hex.slice(i * 8, i * 8 + 8), 16);
    if (endianness === 'LE') bytes.writeUInt32LE(word, i * 4);
    else bytes.writeUInt32BE(word, i * 4);
  }
  if (bytes.length === 4) return [...bytes].join('.');
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}
