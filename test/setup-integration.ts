import { afterAll } from 'vitest';
import { cleanupDaemons } from './helpers/cli.js';
import { cleanupClusters } from './helpers/cluster.js';

// Every process a test file started is gone before the next file runs.
afterAll(async () => {
  await cleanupClusters();
  await cleanupDaemons();
});
