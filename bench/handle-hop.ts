import { fork } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuMsFine } from './procfs.js';

const ECHO_CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'apps/handle-echo.js');

/**
 * The floor under a park → wake cycle: what one socket handle costs to pass
 * between two plain Node processes over the IPC channel (no rocket-cluster
 * code), in CPU of both processes per hop. A hop is Node's NODE_HANDLE
 * message, the receiver's ACK and the sender's close of its copy. A cycle
 * needs four (worker → master → monitor → master → worker), because IPC
 * exists only between parent and child.
 */
export async function measureHandleHop(hops: number): Promise<{ hops: number; cpuUsPerHop: number }> {
  const child = fork(ECHO_CHILD, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const server = net.createServer({ pauseOnConnect: true });
  const client = new net.Socket();
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const address = server.address() as net.AddressInfo;
    client.connect(address.port, '127.0.0.1');
    const first = await accepted;
    // A warm-up round, so that the child has loaded and the channel is open.
    let socket = await echo(child, first);
    const cpu0 = (cpuMsFine(process.pid) ?? 0) + (cpuMsFine(child.pid ?? 0) ?? 0);
    for (let i = 0; i < hops / 2; i++) socket = await echo(child, socket);
    const cpu1 = (cpuMsFine(process.pid) ?? 0) + (cpuMsFine(child.pid ?? 0) ?? 0);
    socket.destroy();
    return { hops, cpuUsPerHop: ((cpu1 - cpu0) * 1000) / hops };
  } finally {
    client.destroy();
    server.close();
    child.kill();
  }
}

/** Two hops: the socket goes to the child and comes back. */
function echo(child: ReturnType<typeof fork>, socket: net.Socket): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    child.once('message', (_message, handle) => {
      if (handle instanceof net.Socket) resolve(handle);
      else reject(new Error('the echo child sent back no socket'));
    });
    child.send({ t: 'hop' }, socket);
  });
}
