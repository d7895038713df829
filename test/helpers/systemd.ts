import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import readline from 'node:readline';
import { onCleanup } from './cleanup.js';

/** One sd_notify datagram as the service manager would read it: its VARIABLE=value lines. */
export interface NotifyMessage {
  readonly text: string;
  readonly vars: ReadonlyMap<string, string>;
}

export interface NotifyReceiver {
  /** NOTIFY_SOCKET for the master: the path, or `@name` for the abstract namespace. */
  readonly address: string;
  /** Every datagram received so far, in order (systemd-notify's BARRIER=1 ones left out). */
  readonly messages: NotifyMessage[];
  /** The first message from index `from` on that matches, already received or still to come. */
  next(match: (m: NotifyMessage) => boolean, from?: number, timeoutMs?: number): Promise<{ message: NotifyMessage; index: number }>;
}

/**
 * Node has no unix datagram sockets, so the socket that plays systemd's
 * notify socket is a small python3 receiver (python3 is on CI's machine;
 * .ci/run installs it where missing). It prints each datagram as a JSON line.
 * A BARRIER=1 datagram carries a pipe's descriptor: `recv` asks for no
 * ancillary data, so the kernel closes it, which is what ends the barrier.
 */
const RECEIVER = `
import json, socket, sys
address = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + address[1:] if address.startswith('@') else address)
print(json.dumps({'bound': True}), flush=True)
while True:
    print(json.dumps({'text': s.recv(65536).decode()}), flush=True)
`;

export async function notifyReceiver(address: string): Promise<NotifyReceiver> {
  const child = spawn('python3', ['-c', RECEIVER, address], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const messages: NotifyMessage[] = [];
  const waiters = new Set<() => void>();
  let bound: () => void = () => {};
  const isBound = new Promise<void>((resolve) => (bound = resolve));
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    const parsed = JSON.parse(line) as { bound?: true; text?: string };
    if (parsed.bound) return bound();
    const text = parsed.text ?? '';
    if (text === 'BARRIER=1') return;
    messages.push({ text, vars: new Map(text.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const)) });
    for (const wake of waiters) wake();
  });
  await Promise.race([isBound, exited.then(() => Promise.reject(new Error('the python3 notify receiver exited before binding')))]);
  return {
    address,
    messages,
    next(match, from = 0, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const index = messages.findIndex((m, i) => i >= from && match(m));
          if (index < 0) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve({ message: messages[index]!, index });
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching sd_notify message within ${timeoutMs} ms; got: ${JSON.stringify(messages.map((m) => m.text))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/**
 * A TCP socket listening on 127.0.0.1 (port 0), as a systemd .socket unit
 * would hand it over: its descriptor is for `launch({ passFds })`. Close the
 * test's own copy right after spawning (`close`), so that only the master
 * accepts on it.
 */
export async function listeningSocket(): Promise<{ fd: number; port: number; close(): void }> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  let open = true;
  const close = () => {
    if (open) server.close();
    open = false;
  };
  onCleanup(close);
  // eslint-disable-next-line no-restricted-syntax -- the descriptor of the test's own socket, to pass to the master as systemd would
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  return { fd, port: (server.address() as net.AddressInfo).port, close };
}

/**
 * What a systemd .socket unit with `ListenStream=/path` does, for `launch({
 * wrap })`: python3 binds and listens on the unix socket, puts it at
 * descriptor 3, sets LISTEN_FDS, LISTEN_PID (its own pid) and
 * LISTEN_FDNAMES, and execs the master in its place. (Node cannot hand over a
 * unix socket it bound without unlinking the path when it closes its copy.)
 */
export function unixActivator(path: string, name: string): string[] {
  const code = `
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(128)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)  # python's sockets are close-on-exec, and dup2 onto itself changes nothing
os.environ.update(LISTEN_FDS='1', LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES=sys.argv[2])
os.execv(sys.argv[3], sys.argv[3:])
`;
  return ['python3', '-c', code, path, name];
}
