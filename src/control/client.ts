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
import { checkRuntimeDir, controlDirs, socketNames, socketPath } from './runtime-dir.js';

type Body<C extends ControlRequest['cmd']> = Omit<Extract<ControlRequest, { cmd: C }>, 'v' | 'cmd'>;

/** The runtime directories that exist and are safe (see controlDirs); none if no cluster was ever started. */
function existingRuntimeDirs(): string[] {
  const dirs = controlDirs();
  for (const dir of dirs) checkRuntimeDir(dir);
  return dirs;
}

/**
 * The control socket of `name`: the one directory that has one (its own or a
 * --user cluster's), or where several do, the first that answers (a stale
 * one left by a killed cluster must not hide a running one of the same name).
 */
async function findSocket(name: string): Promise<string | null> {
  const paths = existingRuntimeDirs()
    .map((dir) => socketPath(dir, name))
    .filter((p) => fs.existsSync(p));
  if (paths.length <= 1) return paths[0] ?? null;
  for (const p of paths) if ((await probeSocket(p)) === 'live') return p;
  return paths[0] ?? null;
}

/** Names of the running clusters: those whose control socket answers (a killed cluster leaves a stale one). */
export async function clusterNames(): Promise<string[]> {
  const sockets = existingRuntimeDirs().flatMap((dir) => socketNames(dir).map((name) => ({ name, path: socketPath(dir, name) })));
  const live = await Promise.all(sockets.map(async (s) => (await probeSocket(s.path)) !== 'stale'));
  return [...new Set(sockets.filter((_, i) => live[i]).map((s) => s.name))].sort();
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
  return findSocket(name).then((p) => (p === null ? Promise.reject(notRunning(name)) : request(p, name, cmd, body, options)));
}

function request<C extends ControlRequest['cmd']>(
  p: string,
  name: string,
  cmd: C,
  body: Body<C>,
  options: { timeoutMs?: number; onLine?: (line: string) => void; signal?: AbortSignal },
): Promise<ControlResults[C]> {
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
