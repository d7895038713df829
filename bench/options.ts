import { parseArgs } from 'node:util';

/** What one `npm run bench` does; every knob has a flag and an environment variable. */
export interface BenchOptions {
  /** Seconds per throughput measurement. */
  readonly duration: number;
  /** Seconds of unmeasured load per server and workload before the rounds (JIT, pools). */
  readonly warmup: number;
  readonly rounds: number;
  readonly connections: number;
  readonly threads: number;
  /** `auto` picks wrk when it is on PATH, else autocannon. */
  readonly generator: 'auto' | 'wrk' | 'autocannon';
  readonly parkSamples: number;
  readonly parkSockets: number;
  /** Seconds of load per reload measurement; the reloads are spread evenly over it. */
  readonly reloadDuration: number;
  /** Reloads triggered during each reload measurement. */
  readonly reloads: number;
  /** Rounds of the reload part; each measures every server once. */
  readonly reloadRounds: number;
  /** Queue spikes timed (each on a fresh rocket-cluster with a pool of 1..2). */
  readonly spikeSamples: number;
  /** Which parts run; all by default. */
  readonly only: ReadonlySet<Part>;
  readonly out: string;
}

export type Part = 'throughput' | 'park-latency' | 'park-memory' | 'reload';
const PARTS: readonly Part[] = ['throughput', 'park-latency', 'park-memory', 'reload'];

// Defaults keep a full run near 6 minutes: 6 servers x 2 workloads x 3 rounds
// x 5 s, 2 servers x 3 rounds x 5 s of balance, plus warm-up, the park
// measurements and 2 servers x 2 rounds x 10 s of reloads. The machine has 2
// cores shared by servers and load generator, so longer runs mostly burn other
// people's CPU.
const SPEC = {
  duration: { env: 'BENCH_DURATION', def: '5', help: 'seconds per throughput measurement' },
  warmup: { env: 'BENCH_WARMUP', def: '1', help: 'seconds of warm-up load per server and workload' },
  rounds: { env: 'BENCH_ROUNDS', def: '3', help: 'rounds; each round measures every server once per workload' },
  connections: { env: 'BENCH_CONNECTIONS', def: '50', help: 'concurrent connections of the load generator' },
  threads: { env: 'BENCH_THREADS', def: '2', help: 'wrk threads (autocannon: ignored)' },
  generator: { env: 'BENCH_GENERATOR', def: 'auto', help: 'auto, wrk or autocannon' },
  'park-samples': { env: 'BENCH_PARK_SAMPLES', def: '20', help: 'park->unpark round trips timed' },
  'park-sockets': { env: 'BENCH_PARK_SOCKETS', def: '6000', help: 'idle sockets parked for the memory measurement (fixed costs of the monitor weigh less with more)' },
  'reload-duration': { env: 'BENCH_RELOAD_DURATION', def: '10', help: 'seconds of load per reload measurement' },
  reloads: { env: 'BENCH_RELOADS', def: '3', help: 'reloads spread evenly over each reload measurement' },
  'reload-rounds': { env: 'BENCH_RELOAD_ROUNDS', def: '2', help: 'rounds of the reload part; each measures every server once' },
  'spike-samples': { env: 'BENCH_SPIKE_SAMPLES', def: '3', help: 'queue spikes timed until a new worker serves (part of reload)' },
  only: { env: 'BENCH_ONLY', def: PARTS.join(','), help: `comma-separated subset of ${PARTS.join(', ')}` },
  out: { env: 'BENCH_OUT', def: '.bench/results.json', help: 'where the raw results go' },
} as const;

export function usage(): string {
  const lines = Object.entries(SPEC).map(([k, s]) => `  --${k.padEnd(16)} ${s.help} [env ${s.env}, default ${s.def}]`);
  return `npm run bench -- [options]\n${lines.join('\n')}\n`;
}

function positive(name: string, raw: string, integer: boolean): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** Flags win over environment variables, which win over defaults. Returns null for --help. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions | null {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...Object.fromEntries(Object.keys(SPEC).map((k) => [k, { type: 'string' as const }])),
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) return null;
  const get = (k: keyof typeof SPEC): string => {
    const v = (values as Record<string, unknown>)[k];
    return typeof v === 'string' ? v : (env[SPEC[k].env] ?? SPEC[k].def);
  };
  const generator = get('generator');
  if (generator !== 'auto' && generator !== 'wrk' && generator !== 'autocannon') {
    throw new Error(`--generator must be auto, wrk or autocannon, got ${JSON.stringify(generator)}`);
  }
  const only = new Set<Part>();
  for (const p of get('only').split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only: unknown part ${JSON.stringify(p)} (known: ${PARTS.join(', ')})`);
    only.add(p as Part);
  }
  return {
    duration: positive('duration', get('duration'), false),
    warmup: Number(get('warmup')) === 0 ? 0 : positive('warmup', get('warmup'), false),
    rounds: positive('rounds', get('rounds'), true),
    connections: positive('connections', get('connections'), true),
    threads: positive('threads', get('threads'), true),
    generator,
    parkSamples: positive('park-samples', get('park-samples'), true),
    parkSockets: positive('park-sockets', get('park-sockets'), true),
    reloadDuration: positive('reload-duration', get('reload-duration'), false),
    reloads: positive('reloads', get('reloads'), true),
    reloadRounds: positive('reload-rounds', get('reload-rounds'), true),
    spikeSamples: positive('spike-samples', get('spike-samples'), true),
    only,
    out: get('out'),
  };
}
