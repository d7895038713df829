import fs from 'node:fs';
import net from 'node:net';
import {
  CONTROL_VERSION,
  MAX_REPLY_BYTES,
  type ControlReply,
  type ControlRequest,
  type ControlResults,
} from '../shared/control-protocol.js';
import { RocketError, isErrorCode } from '../shared/errors.js';
import { LineReader } from './line-reader.js';
import { probeSocket } from './probe.js';
import { checkRuntimeDir, runtimeDirPath, socketNames, socketPath } from './runtime-dir.js';

type Body<C extends ControlRequest['cmd']> = Omit<Extract<ControlRequest, { cmd: C }>, 'v' | 'cmd'>;

/** The runtime directory if it exists and is safe; null if no cluster was ever started. */
function existingRuntimeDir(): string | null {
  const dir = runtimeDirPath();
  if (!fs.existsSync(dir)) return null;
  checkRuntimeDir(dir);
  return dir;
}

/** Names of the running clusters: those whose control socket answers (a killed cluster leaves a stale one). */
export async function clusterNames(): Promise<string[]> {
  const dir = existingRuntimeDir();
  if (dir === null) return [];
  const names = socketNames(dir);
  const live = await Promise.all(names.map(async (name) => (await probeSocket(socketPath(dir, name))) !== 'stale'));
  return names.filter((_, i) => live[i]);
}

/**
 * Sends one command to the cluster `name` and resolves with its result.
 * `onLine` receives streamed log lines; with `logs --follow` the promise
 * resolves only when the connection ends (the cluster stops, or the caller
 * destroys it through `signal`).
 */
export function controlRequest<C extends ControlRequest['cmd']>(
  name: string,
  cmd: C,
  body: Body<C>,
  options: { timeoutMs?: number; onLine?: (line: string) => void; signal?: AbortSignal } = {},
): Promise<ControlResults[C]> {
  const dir = existingRuntimeDir();
  if (dir === null) return Promise.reject(notRunning(name));
  const p = socketPath(dir, name);
  return new Promise((resolve, reject) => {
    const socket = net.connect(p);
    const reader = new LineReader(MAX_REPLY_BYTES);
    let result: { value: ControlResults[C] } | null = null;
    const fail = (e: Error) => {
      socket.destroy();
      reject(e);
    };
    if (options.timeoutMs) socket.setTimeout(options.timeoutMs, () => fail(new RocketError('RC_ERR_IPC_TIMEOUT', `cluster "${name}" did not answer ${cmd} within ${options.timeoutMs} ms`)));
    options.signal?.addEventListener('abort', () => socket.destroy(), { once: true });
    socket.once('connect', () => socket.write(`${JSON.stringify({ v: CONTROL_VERSION, cmd, ...body })}\n`));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') fail(notRunning(name));
      else fail(new RocketError('RC_ERR_CONTROL_REFUSED', `cannot reach cluster "${name}" at ${p}: ${e.message}`));
    });
    socket.on('data', (chunk: Buffer) => {
      const lines = reader.push(chunk);
      if (lines === 'too-large') return fail(new RocketError('RC_ERR_CONTROL_REQUEST', `reply from cluster "${name}" exceeds ${MAX_REPLY_BYTES} bytes`));
      for (const text of lines) {
        const reply = JSON.parse(text) as ControlReply;
        if ('line' in reply) options.onLine?.(reply.line);
        else if (reply.ok) result = { value: reply.result as ControlResults[C] };
        else {
          const code = isErrorCode(reply.error.code) ? reply.error.code : 'RC_ERR_CONTROL_REFUSED';
          return fail(new RocketError(code, reply.error.message));
        }
      }
    });
    socket.once('close', () => {
      if (result) resolve(result.value);
      else reject(new RocketError('RC_ERR_CONTROL_REFUSED', `cluster "${name}" closed the control connection without an answer to ${cmd}`));
    });
  });
}

function notRunning(name: string): RocketError {
  return new RocketError('RC_ERR_CONTROL_NOT_RUNNING', `no cluster named "${name}" is running (rocket-cluster list shows those that are)`);
}
