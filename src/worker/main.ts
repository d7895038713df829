import { holdYoungGeneration, releaseYoungGeneration } from '../shared/small-heap.js';

// Entry of a worker process. Loading pino and the app would grow the young
// generation for good (see small-heap.ts): it is held at its starting size
// until the worker is serving (serve.js's top-level await has resolved), then
// left to V8's default for the app.
holdYoungGeneration();
await import('./serve.js');
releaseYoungGeneration();
