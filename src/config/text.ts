import path from 'node:path';
import { anchorListenAddress } from '../shared/listen-address.js';
import { anchorStaticMount } from '../shared/static-mount.js';
import { OPTIONS, type OptionKey, type OptionSpec } from '../shared/options.js';

/**
 * Turns the text of an environment variable (or an untyped flag) into the
 * option's type. Text that does not parse is returned as it is, so the
 * option's schema rejects it with the usual "expected …" message.
 */
export function valueFromText(key: OptionKey, text: string): unknown {
  switch (OPTIONS[key].kind) {
    case 'integer':
    case 'number': {
      const n = Number(text);
      return text.trim() !== '' && Number.isFinite(n) ? n : text;
    }
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text;
    case 'list':
      return text.split(',').map((item) => item.trim());
    case 'words':
      return text.split(/\s+/).filter((word) => word !== '');
    case 'string':
    case 'object':
      return text;
  }
}

/**
 * Makes relative paths in a value absolute against `base`: the config
 * file's directory for values from a file, the working directory for flags
 * and the environment. Values of the wrong type are left for the schema.
 */
export function anchorPaths(key: OptionKey, value: unknown, base: string): unknown {
  const spec: OptionSpec = OPTIONS[key];
  if (spec.paths === 'path') return typeof value === 'string' && value !== '' ? path.resolve(base, value) : value;
  if (spec.paths === 'static') return Array.isArray(value) ? value.map((v: unknown) => (typeof v === 'string' ? anchorStaticMount(v, base) : v)) : value;
  if (spec.paths !== 'address') return value;
  const anchor = (v: unknown): unknown => {
    if (typeof v === 'string') return anchorListenAddress(v, base);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    // A listen entry object: its address and its TLS files, as the top-level options of the same names are.
    const entry = { ...(v as Record<string, unknown>) };
    if (typeof entry.address === 'string') entry.address = anchorListenAddress(entry.address, base);
    for (const key of ['tlsCert', 'tlsKey', 'tlsCa'] as const) entry[key] = anchorPaths(key, entry[key], base);
    return Object.fromEntries(Object.entries(entry).filter(([, x]) => x !== undefined));
  };
  return Array.isArray(value) ? value.map(anchor) : anchor(value);
}
