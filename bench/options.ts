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
  /** Park → wake cycles timed for their CPU and latency (park-cost part), on each of two clusters. */
  readonly parkCycles: number;
  readonly parkSockets: number;
  /** Seconds of load per reload measurement; the reloads are spread evenly over it. */
  readonly reloadDuration: number;
  /** Reloads triggered during each reload measurement. */
  readonly reloads: number;
  /** Rounds of the reload part; each measures every server once. */
  readonly reloadRounds: number;
  /** Queue spikes timed (each on a fresh rocket-cluster with a pool of 1..2). */
  readonly spikeSamples: number;
  /** Keep-alive clients with think time in the think-time part. */
  readonly thinkClients: number;
  /** The same clients in the overload part: more than 2 workers can serve. */
  readonly overloadClients: number;
  /** Seconds per think-time or overload measurement. */
  readonly thinkDuration: number;
  /** Rounds of each of the two parts; each measures every contender once. */
  readonly thinkRounds: number;
  /** Rounds of the rebalance part (each a fresh 1..2 pool) and seconds of load in each. */
  readonly rebalanceRounds: number;
  readonly rebalanceDuration: number;
  /** Which parts run; all by default. */
  readonly only: ReadonlySet<Part>;
  readonly out: string;
}

export type Part = 'throughput' | 'park-latency' | 'park-cost' | 'park-memory' | 'reload' | 'rebalance' | 'think-time' | 'overload' | 'static';
const PARTS: readonly Part[] = ['throughput', 'park-latency', 'park-cost', 'park-memory', 'reload', 'rebalance', 'think-time', 'overload', 'static'];

// Defaults keep a full run near 6 minutes: 6 servers x 2 workloads x 3 rounds
// x 5 s, 2 servers x 3 rounds x 5 s of balance, plus warm-up, the park
// measurements and 2 servers x 2 rounds x 10 s of reloads. The machine has 2
// cores shared by servers and load generator, so longer runs mostly burn other
// people's CPU. The think-time and overload parts add about 4.5 minutes (5.5
// with PM2 installed): 2 parts x 3 rounds x 3 contenders x (10 s + 3-5 s to
// start and stop each contender, which runs alone). Their runs were meant to
// last 20 s; 10 s keeps the whole bench near 12 minutes. A run's first second
// is the clients' connect ramp on a freshly started server.
const SPEC = {
  duration: { env: 'BENCH_DURATION', def: '5', help: 'seconds per throughput measurement' },
  warmup: { env: 'BENCH_WARMUP', def: '1', help: 'seconds of warm-up load per server and workload' },
  rounds: { env: 'BENCH_ROUNDS', def: '3', help: 'rounds; each round measures every server once per workload' },
  connections: { env: 'BENCH_CONNECTIONS', def: '50', help: 'concurrent connections of the load generator' },
  threads: { env: 'BENCH_THREADS', def: '2', help: 'wrk threads (autocannon: ignored)' },
  generator: { env: 'BENCH_GENERATOR', def: 'auto', help: 'auto, wrk or autocannon' },
  'park-cycles': { env: 'BENCH_PARK_CYCLES', def: '200', help: 'park->wake cycles timed for CPU and latency, on each of two clusters (90 ms apart)' },
  'park-samples': { env: 'BENCH_PARK_SAMPLES', def: '20', help: 'park->unpark round trips timed' },
  'park-sockets': { env: 'BENCH_PARK_SOCKETS', def: '6000', help: 'idle sockets parked for the memory measurement (fixed costs of the monitor weigh less with more)' },
  'reload-duration': { env: 'BENCH_RELOAD_DURATION', def: '10', help: 'seconds of load per reload measurement' },
  reloads: { env: 'BENCH_RELOADS', def: '3', help: 'reloads spread evenly over each reload measurement' },
  'reload-rounds': { env: 'BENCH_RELOAD_ROUNDS', def: '2', help: 'rounds of the reload part; each measures every server once' },
  'spike-samples': { env: 'BENCH_SPIKE_SAMPLES', def: '3', help: 'queue spikes timed until a new worker serves (part of reload)' },
  'think-clients': { env: 'BENCH_THINK_CLIENTS', def: '1000', help: 'keep-alive clients with think time in the think-time part' },
  'overload-clients': { env: 'BENCH_OVERLOAD_CLIENTS', def: '3000', help: 'keep-alive clients with think time in the overload part' },
  'think-duration': { env: 'BENCH_THINK_DURATION', def: '10', help: 'seconds per think-time or overload measurement' },
  'think-rounds': { env: 'BENCH_THINK_ROUNDS', def: '3', help: 'rounds of the think-time and overload parts; each measures every contender once' },
  'rebalance-rounds': { env: 'BENCH_REBALANCE_ROUNDS', def: '3', help: 'rounds of the rebalance part, each on a fresh pool of 1..2 workers' },
  'rebalance-duration': { env: 'BENCH_REBALANCE_DURATION', def: '8', help: 'seconds of busy keep-alive load per rebalance round' },
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
    parkCycles: positive('park-cycles', get('park-cycles'), true),
    parkSockets: positive('park-sockets', get('park-sockets'), true),
    reloadDuration: positive('reload-duration', get('reload-duration'), false),
    reloads: positive('reloads', get('reloads'), true),
    reloadRounds: positive('reload-rounds', get('reload-rounds'), true),
    spikeSamples: positive('spike-samples', get('spike-samples'), true),
    thinkClients: positive('think-clients', get('think-clients'), true),
    overloadClients: positive('overload-clients', get('overload-clients'), true),
    thinkDuration: positive('think-duration', get('think-duration'), false),
    thinkRounds: positive('think-rounds', get('think-rounds'), true),
    rebalanceRounds: positive('rebalance-rounds', get('rebalance-rounds'), true),
    rebalanceDuration: positive('rebalance-duration', get('rebalance-duration'), false),
    only,
    out: get('out'),
  };
}
