import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { parseListenAddress } from '../../src/shared/listen-address.js';
import { cli } from './config-helpers.js';

/** The repository root (vitest runs from it; the Dockerfile's build context is it too). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DEPLOY = path.join(ROOT, 'examples/deploy');

// ---- YAML manifests

/** One YAML document of a manifest file, as plain data. */
export interface ManifestDoc {
  readonly file: string;
  readonly index: number;
  readonly data: Record<string, unknown>;
}

/** Every `.yaml`/`.yml` file under `dir`, recursively, sorted. */
export function yamlFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => path.join(dir, name))
    .sort();
}

/** Every non-empty document of a YAML text; a syntax error or warning throws, naming the file. */
export function parseManifests(file: string, text: string): ManifestDoc[] {
  return parseAllDocuments(text, { prettyErrors: true }).flatMap((doc, index) => {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) throw new Error(`${file}: ${problems.map((p) => p.message).join('; ')}`);
    const data: unknown = doc.toJS();
    if (data === null || data === undefined) return [];
    if (typeof data !== 'object' || Array.isArray(data)) throw new Error(`${file} document ${index}: not a mapping`);
    return [{ file, index, data: data as Record<string, unknown> }];
  });
}

// ---- Dockerfile

/** One Dockerfile instruction: its keyword (upper case), flags (`--from=build`) and the rest of the line. */
export interface Instruction {
  readonly keyword: string;
  readonly flags: Record<string, string>;
  readonly args: string;
  /** The build stage it belongs to: 0 for the first FROM's. */
  readonly stage: number;
}

/**
 * The instructions of a Dockerfile: comments and the `# syntax=` directive
 * dropped, lines continued with a trailing backslash joined (comment lines
 * inside a continuation are skipped, as Docker does), leading `--flag=value`
 * options split off.
 */
export function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  if (pending !== '') logical.push(pending);
  let stage = -1;
  return logical.map((line) => {
    const match = /^(\S+)\s*(.*)$/.exec(line) as RegExpExecArray;
    const keyword = (match[1] as string).toUpperCase();
    let rest = match[2] as string;
    const flags: Record<string, string> = {};
    for (let flag = /^--([\w-]+)=(\S+)\s+/.exec(rest); flag; flag = /^--([\w-]+)=(\S+)\s+/.exec(rest)) {
      flags[flag[1] as string] = flag[2] as string;
      rest = rest.slice(flag[0].length);
    }
    if (keyword === 'FROM') stage++;
    return { keyword, flags, args: rest.trim(), stage };
  });
}

/** The array of an exec-form instruction (`CMD ["node", "x"]`); null for the shell form. */
export function execForm(args: string): string[] | null {
  if (!args.startsWith('[')) return null;
  const value: unknown = JSON.parse(args);
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : null;
}

/**
 * Whether `.dockerignore` lets `file` (relative to the context root) into the
 * build context, with Docker's rules: a pattern matches a path or any of its
 * parent directories, `*` and `?` stay within one path segment, `**` spans
 * any, `!` re-includes, and the last matching line wins.
 */
export function inContext(dockerignore: string, file: string): boolean {
  const parts = path.posix.normalize(file).split('/');
  let included = true;
  for (const raw of dockerignore.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    const pattern = path.posix.normalize((negated ? line.slice(1) : line).replace(/^\/+/, ''));
    const regex = new RegExp(`^${pattern.split('**').map((s) => s.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')).join('.*')}$`);
    if (parts.some((_, i) => regex.test(parts.slice(0, i + 1).join('/')))) included = negated;
  }
  return included;
}

// ---- what rocket-cluster makes of a command line

/** The effective value of every option, from `rocket-cluster config --json`. */
export type EffectiveConfig = Record<string, unknown>;

/**
 * Runs the real CLI's `config` command (in this process) on the options of a
 * container's `node bin/rocket-cluster start <app> ...` command line, with no
 * ROCKET_* variable of this machine in the way, and returns what `start` would
 * run with. A flag the CLI does not know, or a bad value, fails with its message.
 */
export async function effectiveConfig(command: readonly string[]): Promise<EffectiveConfig> {
  const [node, bin, start, ...rest] = command;
  if (node !== 'node' || bin !== 'bin/rocket-cluster' || start !== 'start') throw new Error(`not a "node bin/rocket-cluster start" command: ${JSON.stringify(command)}`);
  const saved = Object.entries(process.env).filter(([name]) => name.startsWith('ROCKET_'));
  for (const [name] of saved) delete process.env[name];
  try {
    const { code, stdout, stderr } = await cli(['config', ...rest, '--json']);
    if (code !== 0) throw new Error(`rocket-cluster config ${rest.join(' ')} exited ${code}: ${stderr}`);
    const report = JSON.parse(stdout) as { apps: { options: Record<string, { value: unknown }> }[] };
    const [app] = report.apps;
    if (report.apps.length !== 1 || app === undefined) throw new Error(`expected one app, got ${report.apps.length}`);
    return Object.fromEntries(Object.entries(app.options).map(([key, { value }]) => [key, value]));
  } finally {
    for (const [name, value] of saved) process.env[name] = value;
  }
}

/** The TCP port of an address option's value (`0.0.0.0:9090` → 9090). */
export function tcpPort(text: unknown): number {
  const address = parseListenAddress(String(text));
  if (address.kind !== 'tcp') throw new Error(`${String(text)} is not a TCP address`);
  return address.port;
}

/** A number option's effective value. */
export function ms(config: EffectiveConfig, key: string): number {
  const value = config[key];
  if (typeof value !== 'number') throw new Error(`${key} is ${JSON.stringify(value)}, not a number`);
  return value;
}
