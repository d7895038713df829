import { Channel } from '../shared/channel.js';
import { exitWithParent, ignoreMasterSignals, readChildEnv } from '../shared/child-env.js';
import { DEFAULTS, HEARTBEAT_MS } from '../shared/defaults.js';
import { closeHandle } from '../shared/node-internals/handles.js';
import { createChildLog } from '../shared/child-log.js';
import { assertNever, type MasterToMonitor, type MonitorToMaster } from '../shared/protocol.js';
import { ParkedSockets } from './parked.js';

// Entry of the monitor process: holds parked keep-alive sockets for the master.
const { id, config } = readChildEnv('monitor');
const log = createChildLog('monitor', config.logLevel, { monitor: id });
let reportScheduled = false;

const parked = new ParkedSockets(config.maxParked, {
  wake: (connId, handle, head) => {
    void channel.sendHandle({ t: 'wake', id: connId, head: head.toString('base64') }, handle);
  },
  forgot: () => {
    if (reportScheduled) return;
    reportScheduled = true;
    setImmediate(() => {
      reportScheduled = false;
      channel.post({ t: 'parked', count: parked.size });
    });
  },
});

const channel = new Channel<MasterToMonitor, MonitorToMaster>(
  process,
  (m, handle) => {
    switch (m.t) {
      case 'watch':
        // The keep-alive time counts from when the connection went idle in its worker.
        return handle !== undefined && parked.watch(m.id, handle, config.keepAliveTimeout - m.idleFor);
      case 'release':
        parked.releaseAll();
        return true;
      case 'shutdown':
        stop('shutdown');
        return true;
      case 'ack':
        return true;
      default:
        return assertNever(m);
    }
  },
  {
    ackTimeout: DEFAULTS.ackTimeout,
    // A wake the master did not take (it is stopping or gone): the client is closed.
    reclaim: (_m, handle) => closeHandle(handle),
  },
);

let stopping = false;

function stop(reason: string): void {
  if (stopping) return;
  stopping = true;
  log.info({ reason, parked: parked.size }, 'monitor exiting');
  parked.closeAll();
  setImmediate(() => process.exit(0));
}

exitWithParent(() => stop('master gone'));
ignoreMasterSignals();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop(signal));
channel.post({ t: 'ready' });
// Parks and wakes may stop for hours; without a steady beat the master could not
// tell an idle monitor from one whose event loop hangs (and would lose every park to it).
// It carries the count, which corrects the master's own (+1 a watch taken, −1 a wake) whatever the order of messages.
setInterval(() => channel.post({ t: 'heartbeat', parked: parked.size }), HEARTBEAT_MS).unref();
