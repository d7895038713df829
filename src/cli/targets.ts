import { clusterNames } from '../control/client.js';
import { RocketError } from '../shared/errors.js';
import { UsageError } from './exit.js';

/**
 * The cluster a command acts on: the one named, or, when none is named, the
 * only cluster running. Several running and none named is a usage error that
 * lists them.
 */
export async function oneTarget(name: string | undefined): Promise<string> {
  if (name !== undefined) return name;
  const names = await clusterNames();
  if (names.length === 1) return names[0] as string;
  if (names.length === 0) throw new RocketError('RC_ERR_CONTROL_NOT_RUNNING', 'no cluster is running');
  throw new UsageError(`several clusters are running (${names.join(', ')}): name one`);
}

/** `all` (or nothing, with exactly one cluster running) for commands that accept it. */
export async function targets(name: string | undefined): Promise<string[]> {
  if (name === 'all') return clusterNames();
  return [await oneTarget(name)];
}
