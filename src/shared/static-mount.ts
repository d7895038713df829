import path from 'node:path';

/** One `--static [PREFIX=]DIR`: files of `dir` answer URLs under `prefix`. */
export interface StaticMount {
  /** A URL path: "/" or "/assets" (no trailing slash). */
  readonly prefix: string;
  /** The directory, absolute once anchored. */
  readonly dir: string;
}

/** `PREFIX=DIR`: a PREFIX is a URL path that starts with "/"; the split is at the first "=". */
const WITH_PREFIX = /^(\/[^=]*)=(.*)$/;
/** Characters a prefix may hold: an unreserved URL path, no percent-encoding, query or fragment. */
const PREFIX_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;:@/]*$/;

/** Splits `[PREFIX=]DIR` (unchecked: see staticMountProblem). A trailing "/" of the prefix is dropped. */
export function splitStaticMount(text: string): StaticMount {
  const m = WITH_PREFIX.exec(text);
  if (m === null) return { prefix: '/', dir: text };
  const raw = m[1] as string;
  const prefix = raw.length > 1 && raw.endsWith('/') ? raw.replace(/\/+$/, '') || '/' : raw;
  return { prefix, dir: m[2] as string };
}

/** Why `text` is not a `[PREFIX=]DIR`, or undefined when it is one. */
export function staticMountProblem(text: string): string | undefined {
  const { prefix, dir } = splitStaticMount(text);
  if (dir === '') return `no directory in ${JSON.stringify(text)}: give DIR or PREFIX=DIR, for example ./public or /assets=./build`;
  if (!PREFIX_CHARS.test(prefix)) return `URL prefix ${JSON.stringify(prefix)} may hold only letters, digits, "/" and -._~!$&'()*+,;:@ (no %, ?, # or spaces)`;
  if (prefix.split('/').some((segment) => segment === '.' || segment === '..')) return `URL prefix ${JSON.stringify(prefix)} has a "." or ".." segment`;
  if (prefix.includes('//')) return `URL prefix ${JSON.stringify(prefix)} has an empty segment ("//")`;
  return undefined;
}

/** `PREFIX=DIR` with DIR made absolute against `base` (text that does not parse is returned as it is, for the schema to reject). */
export function anchorStaticMount(text: string, base: string): string {
  if (staticMountProblem(text) !== undefined) return text;
  const { prefix, dir } = splitStaticMount(text);
  // Always with its prefix: an absolute DIR with "=" in it would otherwise read as PREFIX=DIR.
  return `${prefix}=${path.resolve(base, dir)}`;
}
