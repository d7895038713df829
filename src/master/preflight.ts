import type { ClusterConfig } from '../shared/config.js';
import { loadTlsMaterial } from './tls-material.js';

/**
 * What `start` checks before it starts anything, so that a mistake in the
 * deployment exits 2 with the culprit named, as a bad option does: every
 * https:// address's certificate and key can be read and used. The master
 * checks again when it starts (a daemon's master runs in its own process).
 */
export function preflight(config: ClusterConfig): void {
  loadTlsMaterial(config.listen);
}
