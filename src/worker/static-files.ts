import fs from 'node:fs';
import type http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import send from 'send';
import type { ClusterConfig } from '../shared/config.js';
import { acceptedEncodings, directoryLocation, namedPath, type Dotfiles, type NamedPath } from './static-path.js';

/** A mount with its directory's real path (symlinks resolved), which every served file must lie under. */
interface Root {
  readonly prefix: string;
  readonly dir: string;
}

/** What to do with a request that names no file: hand it to the app, or (no app) answer `status`. */
export type StaticMiss = (req: http.IncomingMessage, res: http.ServerResponse, status: 403 | 404) => void;

/** Content-Type by extension from the table `send` itself uses, so a precompressed sibling gets its original's type. */
const mime = createRequire(createRequire(import.meta.url).resolve('send'))('mime-types') as { contentType(ext: string): string | false };

/**
 * open and close of the file streams `send` creates (createReadStream's `fs`
 * option, which `send` passes through) as synchronous system calls: on a
 * local disk they take microseconds, and each threadpool round trip they
 * replace costs two thread wake-ups, which for a small file is most of the
 * work (a CPU profile under load: docs/BENCHMARKS.md, "Static files"). The
 * reads stay asynchronous: their number grows with the file.
 */
const STREAM_FS = {
  open(file: string, flags: string, mode: number, done: (error: Error | null, fd?: number) => void): void {
    let fd: number;
    try {
      fd = fs.openSync(file, flags, mode);
    } catch (error) {
      process.nextTick(done, error as Error);
      return;
    }
    process.nextTick(done, null, fd);
  },
  close(fd: number, done: (error: Error | null) => void): void {
    try {
      fs.closeSync(fd);
    } catch (error) {
      process.nextTick(done, error as Error);
      return;
    }
    process.nextTick(done, null);
  },
  read: fs.read,
};

/**
 * How a file is read: one whole read, and one socket write, for a file up to
 * `--static-read-size` (1 MB by default); chunks of STREAM_CHUNK_MAX (or the
 * read size, if smaller) for a larger one. Node's file streams, and so
 * serve-static, read 64 KB at a time; each chunk costs a threadpool round
 * trip, a pass through the stream machinery and a socket write, and with the
 * file in the page cache those, not the copying, are most of the work. A
 * read is never larger than the file or range, so small files allocate no
 * more than before (docs/BENCHMARKS.md, "Static files").
 *
 * Larger chunks serve big files faster still, but unfairly: with 50 clients
 * of a 4 MB file, 1 MB chunks doubled the slowest responses (p99 0.7–1.05 s,
 * max up to 2 s) against serve-static's 64 KB (p99 0.48–0.72 s), while 256 KB
 * kept them at or below it (0.32–0.58 s). A download held up by a slow
 * client keeps its whole file, or up to two chunks (one queued on the
 * socket, one read ahead), in its worker.
 */
const STREAM_CHUNK_MAX = 256 * 1024;

/** A precompressed sibling: its suffix and its Content-Encoding, in order of preference. */
const SIBLINGS = [
  { suffix: '.br', encoding: 'br', accepted: 'br' },
  { suffix: '.gz', encoding: 'gzip', accepted: 'gzip' },
] as const;
type Sibling = (typeof SIBLINGS)[number];

/**
 * `--static` directories, served by the worker in front of the app with
 * `send` (conditional requests, ranges, HEAD, streaming with backpressure
 * through pipe()). docs/STATIC.md describes the behaviour; the parts `send`
 * leaves to its caller are here: the real path of every file is checked to
 * lie under the directory's real path (`send` follows symlinks), index.html
 * of a directory is resolved the same way, and a `.br`/`.gz` sibling is
 * chosen by Accept-Encoding.
 */
export class StaticFiles {
  /** Longest prefix first, so /assets wins over /. */
  readonly #roots: readonly Root[];
  readonly #dotfiles: Dotfiles;
  readonly #cacheControl: string;
  /** The largest file read whole, and the chunk of a larger one (file streams' high-water marks): see STREAM_CHUNK_MAX. */
  readonly #readBytes: number;
  readonly #chunkBytes: number;

  constructor(config: Pick<ClusterConfig, 'static' | 'staticCacheControl' | 'staticDotfiles' | 'staticReadSize'>) {
    this.#roots = [...config.static]
      .sort((a, b) => b.prefix.length - a.prefix.length)
      .map((m) => ({ prefix: m.prefix, dir: realDir(m.dir) }));
    this.#dotfiles = config.staticDotfiles;
    this.#cacheControl = config.staticCacheControl;
    this.#readBytes = config.staticReadSize * 1024;
    this.#chunkBytes = Math.min(this.#readBytes, STREAM_CHUNK_MAX);
  }

  /**
   * The mount a GET or HEAD falls under, else null: the only work done for a
   * request that is not for a static file, so nothing here allocates.
   */
  mountFor(req: http.IncomingMessage): Root | null {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return null;
    const url = req.url as string;
    for (const root of this.#roots) if (isUnder(url, root.prefix)) return root;
    return null;
  }

  /** Whether `url` falls under any mount, whatever the method (a static-only server answers 405 there). */
  covers(url: string): boolean {
    return this.#roots.some((root) => isUnder(url, root.prefix));
  }

  /**
   * Serves the file `req` names under `root`, or calls `miss`. The path checks
   * are synchronous realpath calls (microseconds, answered from the kernel's
   * dentry cache), not threadpool round trips, for the reason STREAM_FS gives;
   * `send` then does its own stat and reads.
   */
  serve(req: http.IncomingMessage, res: http.ServerResponse, root: Root, miss: StaticMiss): void {
    const named = namedPath(req.url as string, root.prefix, this.#dotfiles);
    if (!named.ok) return miss(req, res, named.status);
    // A directory URL with its slash names its index.html, which may itself be a symlink: resolved like any file.
    const real = realPath(root.dir + named.rel + (named.rel.endsWith('/') ? 'index.html' : ''));
    if (real === null) return miss(req, res, 404);
    if (!inside(real, root.dir)) return miss(req, res, 403);
    // A Range counts bytes of the representation: identity only, so the same offsets always mean the same bytes.
    const acceptEncoding = req.headers['accept-encoding'];
    if (req.headers.range === undefined && acceptEncoding !== undefined) {
      const accepted = acceptedEncodings(acceptEncoding);
      for (const sibling of SIBLINGS) {
        if (!accepted[sibling.accepted]) continue;
        const encoded = realPath(real + sibling.suffix);
        if (encoded !== null && inside(encoded, root.dir)) return this.#send(req, res, root, encoded, sibling, named, miss, real);
      }
    }
    this.#send(req, res, root, real, null, named, miss);
  }

  #send(req: http.IncomingMessage, res: http.ServerResponse, root: Root, real: string, sibling: Sibling | null, named: NamedPath, miss: StaticMiss, original?: string): void {
    const cacheControl = this.#cacheControl;
    const rel = real.slice(root.dir === '/' ? 0 : root.dir.length);
    const options = {
      root: root.dir,
      index: false, // index.html is resolved (and its symlinks checked) in serve()
      dotfiles: this.#dotfiles, // again on the real path: a symlink to .git inside the root is a dotfile too
      cacheControl: false,
      acceptRanges: sibling === null,
      fs: STREAM_FS, // passed on to createReadStream, as highWaterMark is
      highWaterMark: this.#chunkBytes,
    };
    const stream = send(req, encodePath(rel), options as send.SendOptions);
    stream.on('headers', (out: http.ServerResponse, _path: string, stat: fs.Stats) => {
      // The first moment the size is known: send copies its options into the file stream's after 'headers'.
      if (stat.size <= this.#readBytes) options.highWaterMark = this.#readBytes;
      out.setHeader('Cache-Control', cacheControl);
      out.setHeader('Vary', 'Accept-Encoding');
      if (sibling === null) return;
      out.setHeader('Content-Encoding', sibling.encoding);
      out.setHeader('Content-Type', mime.contentType(path.extname(original as string)) || 'application/octet-stream');
      // Not send's ETag of the sibling's size and time: one that names the encoding, so no two representations share one.
      out.setHeader('ETag', `W/"${stat.size.toString(16)}-${stat.mtime.getTime().toString(16)}-${sibling.encoding}"`);
    });
    stream.on('directory', () => {
      if (sibling !== null) return this.#send(req, res, root, original as string, null, named, miss); // a directory named x.br: serve x
      redirect(res, directoryLocation(named.pathname, named.search));
    });
    stream.on('error', (error: { status?: number; headers?: Record<string, string> }) => {
      const status = error.status ?? 500;
      // Not found, or a dotfile refused on the real path: the same miss as one refused on the URL.
      if ((status === 404 || status === 403) && !res.headersSent) {
        // A file gone between send's stat and its open leaves the file's headers set: the miss starts clean.
        for (const name of res.getHeaderNames()) res.removeHeader(name);
        return miss(req, res, status);
      }
      answerError(res, status, error.headers);
    });
    stream.pipe(res);
  }
}

/** `/assets` covers `/assets`, `/assets/…` and `/assets?…`, not `/assetsx`; `/` covers every path. */
function isUnder(url: string, prefix: string): boolean {
  if (url.charCodeAt(0) !== 47 /* / */) return false; // absolute-form or `*`: not a file path
  if (prefix.length === 1) return true;
  if (!url.startsWith(prefix)) return false;
  const next = url.charCodeAt(prefix.length);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */;
}

function inside(real: string, dir: string): boolean {
  return dir === '/' || real === dir || (real.startsWith(dir) && real.charCodeAt(dir.length) === 47);
}

/** The real path of a mount's directory; as given if it cannot be resolved (preflight checked it existed: every request then misses). */
function realDir(dir: string): string {
  try {
    return fs.realpathSync.native(dir);
  } catch {
    return dir;
  }
}

/** The real path of `file`, or null when there is none (no such file, a dangling symlink, no permission). */
function realPath(file: string): string | null {
  try {
    return fs.realpathSync.native(file);
  } catch {
    return null;
  }
}

/** A decoded path as `send` wants it, URL-encoded (it decodes it again). */
function encodePath(rel: string): string {
  return rel.split('/').map(encodeURIComponent).join('/');
}

function redirect(res: http.ServerResponse, location: string): void {
  const body = 'Redirecting\n';
  res.writeHead(301, { location, 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length });
  res.end(body);
}

/** An error `send` reports instead of answering (it would write an HTML page): plain text, its headers kept (416's Content-Range). */
function answerError(res: http.ServerResponse, status: number, headers: Record<string, string> | undefined): void {
  if (res.headersSent) {
    res.destroy(); // the file failed mid-stream: the response cannot be completed
    return;
  }
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  const body = `${statusText(status)}\n`;
  res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function statusText(status: number): string {
  return status === 416 ? 'Range Not Satisfiable' : status === 412 ? 'Precondition Failed' : status === 403 ? 'Forbidden' : status === 400 ? 'Bad Request' : 'Internal Server Error';
}
