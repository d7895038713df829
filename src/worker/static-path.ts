/**
 * Pure checks of a request for a static file: which file path a URL names
 * under a mount, and which precompressed encodings a client takes. Nothing
 * here touches the filesystem; static-files.ts does, only with what passes.
 */

export type Dotfiles = 'ignore' | 'deny' | 'allow';

/** The file path a URL names, decoded, relative to its mount's directory: "" (the mount itself) or "/…". */
export interface NamedPath {
  readonly ok: true;
  readonly rel: string;
  /** The URL's path as sent (still percent-encoded), for a redirect to its directory form. */
  readonly pathname: string;
  /** "?…" or "". */
  readonly search: string;
}

/** A path that never reaches the filesystem: 403 (it tries to leave the directory or hide a byte), or 404 (an ignored dotfile). */
export interface RefusedPath {
  readonly ok: false;
  readonly status: 403 | 404;
  readonly why: string;
}

/** Encoded forms that could join segments or hide a byte once decoded: "/" and "\" and NUL. */
const ENCODED_SEPARATOR = /%(?:2f|5c|00)/i;

/**
 * The file `url` names under `prefix` (a URL path that the caller checked `url`
 * starts with), or why it names none. Checked on the raw URL and again on the
 * decoded path, so that neither `/a/../b` nor `/a/%2e%2e/b` nor `/a%2f..%2fb`
 * can climb, and a NUL or backslash never reaches a system call.
 */
export function namedPath(url: string, prefix: string, dotfiles: Dotfiles): NamedPath | RefusedPath {
  const query = url.indexOf('?');
  const pathname = query === -1 ? url : url.slice(0, query);
  const search = query === -1 ? '' : url.slice(query);
  const raw = prefix === '/' ? pathname : pathname.slice(prefix.length);
  if (raw.includes('\\') || ENCODED_SEPARATOR.test(raw)) return refused(403, 'an encoded "/", a backslash or a NUL');
  let rel: string;
  try {
    rel = decodeURIComponent(raw);
  } catch {
    return refused(403, 'bad percent-encoding');
  }
  if (rel.includes('\0')) return refused(403, 'a NUL');
  const segments = rel.split('/');
  for (const segment of segments) {
    if (segment === '..' || segment === '.') return refused(403, 'a "." or ".." segment');
  }
  if (dotfiles !== 'allow' && segments.some((s) => s.startsWith('.'))) {
    return dotfiles === 'deny' ? refused(403, 'a dotfile') : refused(404, 'a dotfile');
  }
  return { ok: true, rel, pathname, search };
}

function refused(status: 403 | 404, why: string): RefusedPath {
  return { ok: false, status, why };
}

export interface Accepted {
  readonly br: boolean;
  readonly gzip: boolean;
}

const NONE: Accepted = { br: false, gzip: false };

/**
 * Which of br and gzip an Accept-Encoding value allows (RFC 9110 §12.5.3):
 * listed with q above 0, or covered by `*` and not refused by name.
 */
export function acceptedEncodings(header: string | undefined): Accepted {
  if (header === undefined || header === '') return NONE;
  let br: boolean | undefined;
  let gzip: boolean | undefined;
  let star = false;
  for (const item of header.split(',')) {
    const [name = '', ...params] = item.split(';');
    const coding = name.trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=');
      if (k?.trim().toLowerCase() === 'q') q = Number(v?.trim());
    }
    const ok = Number.isFinite(q) && q > 0;
    if (coding === 'br') br = ok;
    else if (coding === 'gzip' || coding === 'x-gzip') gzip = ok;
    else if (coding === '*') star = ok;
  }
  return { br: br ?? star, gzip: gzip ?? star };
}

/**
 * Where a directory URL without its trailing slash is sent: the path as
 * sent plus "/", and the query. Leading slashes are collapsed: "//evil.example/x"
 * as a Location would send the browser to another host.
 */
export function directoryLocation(pathname: string, search: string): string {
  return `${pathname.replace(/^\/+/, '/')}/${search}`;
}
