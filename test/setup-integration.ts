import { afterAll } from 'vitest';
import { cleanupClusters } from './helpers/cluster.js';

// Every process a test file started is gone before the next file runs.
afterAll(cleanupClusters);
