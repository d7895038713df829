import net from 'node:net';
import { Channel } from '../shared/channel.js';
import { parseListenAddress, type ListenAddress } from '../shared/config.js';
import { DEFAULTS } from '../shared/defaults.js';
import { RocketError } from '../shared/errors.js';
import { closeHandle, type NativeHandle } from '../shared/node-internals/handles.js';
import type { NewToOldMaster, OldToNewMaster } from '../shared/protocol.js';
import { holdYoungGeneration } from '../shared/small-heap.js';
import type { Master } from './master.js';

/**
 * The entry of a new master in an upgrade (see upgrade.ts): the old master
 * forks it from the code on disk now and sends it, over IPC, how the cluster
 * was started (`start`) and its listening sockets (`listener`). It resolves
 * the config again from that origin (the config file as it is now), starts
 * its monitor and workers on the inherited sockets, and says `ready` (or
 * `failed`, and exits). Then it takes every connection the old master hands
 * over, and claims the cluster's control socket once the old one lets it go.
 */

holdYoungGeneration();

let start: Extract<OldToNewMaster, { t: 'start' }> | null = null;
const listen: (NativeHandle | undefined)[] = [];
let admin: NativeHandle | undefined;
let received = 0;
let master: Master | null = null;
let controlFree: () => void = () => {};
const controlFreed = new Promise<void>((resolve) => (controlFree = resolve));

const channel = new Channel<OldToNewMaster, NewToOldMaster>(process, (m, handle) => receive(m, handle), {
  ackTimeout: DEFAULTS.ackTimeout,
  reclaim: (_m, handle) => closeHandle(handle),
});
// The old master exits once it has handed everything over: that must not end this one.
process.on('disconnect', () => channel.close());

function receive(m: OldToNewMaster, handle: NativeHandle | undefined): boolean {
  switch (m.t) {
    case 'start':
      start = m;
      maybeBegin();
      return true;
    case 'listener':
      if (!handle) return false;
      if (m.index < 0) admin = handle;
      else listen[m.index] = handle;
      received++;
      maybeBegin();
      return true;
    case 'conn':
      if (!handle || !master) return false;
      master.adopt(handle, m.head, m.listener);
      return true;
    case 'control-free':
      controlFree();
      return true;
    case 'done':
      channel.close();
      process.channel?.unref();
      return true;
    case 'ack':
      return true;
  }
}

function maybeBegin(): void {
  if (!start || received < start.addresses.length + (start.admin ? 1 : 0)) return;
  void begin(start).catch((error: unknown) => fail(error instanceof RocketError ? error : new RocketError('RC_ERR_WORKER_START', String(error))));
}

async function begin(s: Extract<OldToNewMaster, { t: 'start' }>): Promise<void> {
  // The code on disk now: the config resolver and the master of this release.
  const { resolveNamedApp } = await import('../config/resolve-apps.js');
  const fresh = await resolveNamedApp(s.origin, s.name);
  const config = fresh.logDir === undefined && s.logDir !== undefined ? { ...fresh, logDir: s.logDir } : fresh;
  // A socket is taken over where the address is the same (by position in --listen); one that moved is bound fresh.
  const kept = config.listen.map((address, i) => (sameAddress(address, s.addresses[i]) ? listen[i] : undefined));
  for (const handle of listen) if (handle && !kept.includes(handle)) closeHandle(handle);
  const { runMaster } = await import('./main.js');
  const code = await runMaster(config, {
    origin: s.origin,
    upgradeFrom: { inherited: { listen: kept, ...(admin ? { admin } : {}) }, controlFree: controlFreed, onMaster: (m) => void (master = m) },
    onReady: (ready) => channel.post({ t: 'ready', pid: ready.pid, addresses: ready.addresses }),
    onStartFailed: (error) => fail(error),
  });
  process.exitCode = code;
}

function fail(error: RocketError): void {
  channel.post({ t: 'failed', code: error.code, message: error.message });
  process.exitCode = 1;
  // Gone once the answer is out: the old master goes on serving.
  setTimeout(() => process.exit(1), 100).unref();
}

/** The same socket: same kind, host and port (any port, for port 0) or path; TLS or not does not matter to the socket. */
function sameAddress(wanted: ListenAddress, bound: string | undefined): boolean {
  if (bound === undefined) return false;
  const old = parseListenAddress(bound);
  if (wanted.kind === 'unix' || old.kind === 'unix') return wanted.kind === old.kind && (wanted as { path: string }).path === (old as { path: string }).path;
  // A name (localhost) was bound as the address it resolved to.
  const host = wanted.host === old.host || net.isIP(wanted.host) === 0;
  return host && (wanted.port === 0 || wanted.port === old.port);
}
