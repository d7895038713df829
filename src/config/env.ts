import { OPTION_KEYS, OPTIONS, envName, type OptionKey } from '../shared/options.js';
import { setting } from './layers.js';
import type { Layer } from './source.js';
import { closest } from '../shared/suggest.js';
import { anchorPaths, valueFromText } from './text.js';

/** A ROCKET_* variable that is no option: other tools share the prefix (Rust's Rocket reads ROCKET_PORT), so it is listed, not refused. */
export interface IgnoredVariable {
  readonly variable: string;
  readonly value: string;
  /** The option variable it is probably a typo of. */
  readonly suggestion?: string;
}

/** Variables the master passes to its children (src/shared/defaults.ts ENV): never settings, never listed. */
const INTERNAL_PREFIX = 'ROCKET_CLUSTER_';

const BY_VARIABLE = new Map<string, OptionKey>(OPTION_KEYS.filter((k) => OPTIONS[k].env).map((k) => [envName(k), k]));

/**
 * Reads the ROCKET_* settings. Values are text, parsed per option type
 * (numbers, true/false, comma-separated lists); relative paths are anchored
 * at `cwd`. An empty variable counts as unset, as `export ROCKET_WORKERS=` clears it.
 */
export function readEnv(env: NodeJS.ProcessEnv, cwd: string): { layer: Layer; ignored: IgnoredVariable[] } {
  const layer: Layer = {};
  const ignored: IgnoredVariable[] = [];
  for (const [variable, raw] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!variable.startsWith('ROCKET_') || variable.startsWith(INTERNAL_PREFIX) || raw === undefined) continue;
    const key = BY_VARIABLE.get(variable);
    if (key === undefined) {
      const suggestion = closest(variable, [...BY_VARIABLE.keys()]);
      ignored.push({ variable, value: raw, ...(suggestion === undefined ? {} : { suggestion }) });
    } else if (raw !== '') {
      layer[key] = setting(key, anchorPaths(key, valueFromText(key, raw), cwd), { kind: 'env', variable, raw });
    }
  }
  return { layer, ignored };
}
