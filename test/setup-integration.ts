import { afterAll } from 'vitest';
import { runFileCleanups } from './helpers/cleanup.js';

// Each helper that starts a process or makes a HOME cleans up when its test
// ends. Those started outside a test (a cluster a file shares from beforeAll)
// are cleaned up here, before the next file runs.
afterAll(runFileCleanups);
