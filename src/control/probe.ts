import net from 'node:net';

/**
 * Whether a control socket has a cluster behind it: one that accepts a
 * connection is live; one that refuses (its cluster died without removing
 * it) or is gone is stale. Anything else is returned as the error.
 */
export function probeSocket(p: string): Promise<'live' | 'stale' | Error> {
  return new Promise((resolve) => {
    const probe = net.connect(p);
    probe.once('connect', () => (probe.destroy(), resolve('live')));
    probe.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED' || e.code === 'ENOENT' ? 'stale' : e));
  });
}
