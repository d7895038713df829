import { RocketError } from '../shared/errors.js';
import { checkValue, resolveConfig, type ClusterConfig, type ConfigInput, type ConfigKey } from '../shared/config.js';
import { OPTION_KEYS, kebabCase, envName, type OptionKey } from '../shared/options.js';
import { DEFAULT_SOURCE, describeSetting, type Layer, type Setting, type Source } from './source.js';

/** One app's effective config and, for each setting, where its value came from. */
export interface ResolvedApp {
  readonly config: ClusterConfig;
  readonly sources: Readonly<Record<ConfigKey, Source>>;
}

/** Checks a value from a source against its option's schema; the error names the source's own spelling. */
export function setting(key: OptionKey, value: unknown, source: Source): Setting {
  checkValue(key, value, (k, v) => describeSetting(k, v, source));
  return { value, source };
}

/**
 * Merges layers, lowest precedence first (file, env, flags), into one app's
 * config. Each layer's `workers` becomes both bounds before merging, so a
 * higher layer's `--workers` replaces a lower layer's bounds and a higher
 * `--max-workers` moves one bound of a lower layer's fixed pool.
 */
export function resolveLayers(layers: readonly Layer[]): ResolvedApp {
  const merged: Layer = {};
  for (const layer of layers) Object.assign(merged, expandWorkers(layer));
  const input: Partial<Record<OptionKey, unknown>> = {};
  for (const [key, s] of Object.entries(merged) as [OptionKey, Setting][]) input[key] = s.value;
  const sourceOf = (key: OptionKey): Source => merged[key]?.source ?? DEFAULT_SOURCE;
  const config = resolveConfig(input as ConfigInput, (key, value) => describeSetting(key, value, sourceOf(key)));
  const sources = Object.fromEntries(OPTION_KEYS.filter((k) => k !== 'workers').map((k) => [k, sourceOf(k)])) as Record<ConfigKey, Source>;
  return { config, sources };
}

function expandWorkers(layer: Layer): Layer {
  const { workers, ...rest } = layer;
  if (workers === undefined) return layer;
  const bound = rest.minWorkers ?? rest.maxWorkers;
  if (bound !== undefined) {
    const [w, min, max] = (['workers', 'minWorkers', 'maxWorkers'] as const).map((k) => nameIn(bound.source, k));
    throw new RocketError(
      'RC_ERR_CONFIG_INVALID',
      `${describeSetting('workers', workers.value, workers.source)} fixes the pool size: give either ${w}, or ${min} and ${max}`,
    );
  }
  return { ...rest, minWorkers: workers, maxWorkers: workers };
}

/** An option as the source spells it: `--min-workers`, `ROCKET_MIN_WORKERS` or `minWorkers`. */
function nameIn(source: Source, key: OptionKey): string {
  if (source.kind === 'env') return envName(key);
  if (source.kind === 'file') return key;
  return `--${kebabCase(key)}`;
}
