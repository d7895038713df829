import { DescriptorWatch, type DescriptorLog } from '../shared/descriptors.js';

/**
 * The worker's one descriptor watch (one worker per process, as with its log
 * destination): sampled with its heartbeat load report, fed the accept
 * errors that reach JavaScript, its episode count reported to the master.
 */
let watch: DescriptorWatch | null = null;

export function workerDescriptors(log: DescriptorLog): DescriptorWatch {
  return (watch ??= new DescriptorWatch(log));
}
