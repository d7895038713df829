import { readFileSync } from 'node:fs';

/**
 * SYNs the kernel dropped machine-wide because a listen queue was full
 * (TcpExt ListenDrops in /proc/net/netstat); null where it cannot be read.
 * A dropped SYN is retried by the client after 1 s, so a full backlog shows
 * as requests that take a second more, not as errors.
 */
export function listenDrops(): number | null {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const [names, values] = lines.map((l) => l.trim().split(/\s+/));
    const at = names?.indexOf('ListenDrops') ?? -1;
    return at < 0 ? null : Number(values?.[at]);
  } catch {
    return null;
  }
}
