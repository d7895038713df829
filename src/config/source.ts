import { OPTIONS, type OptionSpec, kebabCase, type OptionKey } from '../shared/options.js';

/** Where a setting's value came from, lowest precedence first: default < file < env < flag (and the `[app]` argument). */
export type Source =
  | { readonly kind: 'default' }
  /** `key` is the value's place in the file: `workers`, or `apps[1].workers`. */
  | { readonly kind: 'file'; readonly file: string; readonly key: string }
  /** `raw` is the variable's text, shown as written in messages. */
  | { readonly kind: 'env'; readonly variable: string; readonly raw: string }
  | { readonly kind: 'flag'; readonly flag: string }
  | { readonly kind: 'argument' };

export interface Setting {
  readonly value: unknown;
  readonly source: Source;
}

/** The settings one source gives for one app. */
export type Layer = Partial<Record<OptionKey, Setting>>;

export const DEFAULT_SOURCE: Source = { kind: 'default' };

/**
 * A value and where it came from, as error messages name it:
 * `--workers 0`, `ROCKET_WORKERS="0"`, `apps[1].workers 0 (in /srv/rocket.config.mjs)`.
 */
export function describeSetting(key: OptionKey, value: unknown, source: Source): string {
  // A secret (a key's passphrase) is named, never shown: errors end up in terminals, logs and CI output.
  const secret = (OPTIONS[key] as OptionSpec).secret === true;
  const shown = secret ? '(hidden)' : JSON.stringify(value);
  switch (source.kind) {
    case 'default':
      return `the default --${kebabCase(key)} ${shown}`;
    case 'file':
      return `${source.key} ${shown} (in ${source.file})`;
    case 'env':
      // A bad item of a comma-separated list is named besides the whole text.
      return `${source.variable}=${secret ? shown : JSON.stringify(source.raw)}${OPTIONS[key].kind === 'list' && typeof value === 'string' ? ` (item ${shown})` : ''}`;
    case 'flag':
      return `${source.flag} ${shown}`;
    case 'argument':
      return `${key} ${shown}`;
  }
}

/** A source in one short phrase, for `rocket-cluster config`: `env ROCKET_WORKERS`, `file /srv/rocket.config.mjs (apps[1].workers)`. */
export function sourceLabel(source: Source): string {
  switch (source.kind) {
    case 'default':
      return 'default';
    case 'file':
      return `file ${source.file} (${source.key})`;
    case 'env':
      return `env ${source.variable}`;
    case 'flag':
      return `flag ${source.flag}`;
    case 'argument':
      return 'argument [app]';
  }
}
