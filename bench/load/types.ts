/** One load-generator run against one URL. */
export interface LoadSpec {
  readonly url: string;
  readonly durationS: number;
  readonly connections: number;
  readonly threads: number;
  /** Send `Connection: close`: one request per TCP connection. */
  readonly close: boolean;
}

export interface LoadResult {
  readonly generator: GeneratorName;
  readonly requests: number;
  readonly durationS: number;
  readonly rps: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Connect, read, write errors and timeouts, summed. */
  readonly errors: number;
  readonly non2xx: number;
}

export type GeneratorName = 'wrk' | 'autocannon';

/** A workload the chosen generator cannot produce; the bench reports it as skipped. */
export class UnsupportedWorkload extends Error {}

export interface Generator {
  readonly name: GeneratorName;
  run(spec: LoadSpec): Promise<LoadResult>;
}
