import { formatListenAddress, type ClusterConfig, type ConfigKey, type ListenAddress } from '../shared/config.js';
import type { ResolvedApps } from './resolve-apps.js';
import { sourceLabel, type Source } from './source.js';

/** What `rocket-cluster config --json` prints: stable for scripts. */
export interface ConfigReport {
  readonly configFile: string | null;
  readonly apps: readonly {
    readonly name: string;
    readonly options: Readonly<Partial<Record<ConfigKey, { readonly value: unknown; readonly source: Source }>>>;
  }[];
  readonly ignoredEnv: ResolvedApps['ignoredEnv'];
}

export function configReport(resolved: ResolvedApps): ConfigReport {
  return {
    configFile: resolved.configFile ?? null,
    apps: resolved.apps.map(({ config, sources }) => ({
      name: config.name,
      options: Object.fromEntries(keysOf(sources).map((key) => [key, { value: shown(config, key) ?? null, source: sources[key] }])),
    })),
    ignoredEnv: resolved.ignoredEnv,
  };
}

/** The human form: one table per app (option, value, source), then the ignored ROCKET_* variables. */
export function formatConfigReport(resolved: ResolvedApps): string {
  const out: string[] = [`config file: ${resolved.configFile ?? '(none)'}`];
  for (const { config, sources } of resolved.apps) {
    const rows = keysOf(sources).map((key) => [key, text(shown(config, key)), sourceLabel(sources[key])] as const);
    const width = [Math.max(6, ...rows.map((r) => r[0].length)), Math.max(5, ...rows.map((r) => r[1].length))] as const;
    out.push('', `app ${config.name}`, `  ${'option'.padEnd(width[0])}  ${'value'.padEnd(width[1])}  source`);
    for (const [key, value, source] of rows) out.push(`  ${key.padEnd(width[0])}  ${value.padEnd(width[1])}  ${source}`);
  }
  if (resolved.ignoredEnv.length > 0) {
    out.push('', 'ignored ROCKET_* variables (no such option; other tools use the prefix too):');
    for (const v of resolved.ignoredEnv) out.push(`  ${v.variable}=${v.value}${v.suggestion === undefined ? '' : `  (did you mean ${v.suggestion}?)`}`);
  }
  return `${out.join('\n')}\n`;
}

function keysOf(sources: Readonly<Record<ConfigKey, Source>>): ConfigKey[] {
  return Object.keys(sources) as ConfigKey[];
}

/** A value as written on a command line: addresses as text, everything else as it is. */
function shown(config: ClusterConfig, key: ConfigKey): unknown {
  const value: unknown = config[key];
  if (key === 'listen') return config.listen.map(formatListenAddress);
  if (key === 'static') return config.static.map((m) => `${m.prefix}=${m.dir}`);
  if (key === 'admin' && value !== undefined) return formatListenAddress(value as ListenAddress);
  if (key === 'tlsPassphrase' && value !== undefined) return '(hidden)';
  return value;
}

function text(value: unknown): string {
  if (value === undefined) return '(unset)';
  if (Array.isArray(value)) return value.join(', ');
  // `env`: NAME=value pairs, as a shell would set them.
  if (typeof value === 'object' && value !== null) return Object.entries(value).map(([name, v]) => `${name}=${String(v)}`).join(', ');
  return String(value);
}
