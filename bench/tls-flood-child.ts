// The handshake flood's own process (bench/tls-flood.ts floodInChild starts
// it), so that opening and watching 1000 sockets does not delay the event
// loop that times the plain requests. Usage:
//   node tls-flood-child.js <port> <count> <silent|partial-hello> <connect-timeout-ms> <close-wait-ms>
// Prints two JSON lines, times in ms since the epoch at µs resolution:
//   {"msg":"connected","startedAt":…,"at":…,"open":…}  every socket connected or failed (or the connect timeout passed)
//   {"msg":"closed","sockets":[…]}  every socket closed, or close-wait-ms after "connected"; socket times are ms after startedAt
// then idles until the parent stops it (so its last line is read before it exits), at most LINGER_MS.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { FLOOD_VARIANTS, startFlood, type FloodVariant } from './tls-flood.js';

const LINGER_MS = 60_000;
const [portArg, countArg, variant, connectTimeoutArg, closeWaitArg] = process.argv.slice(2);
if (!(FLOOD_VARIANTS as readonly (string | undefined)[]).includes(variant)) throw new Error(`tls-flood-child: unknown variant ${variant}`);
const abs = (t: number): number => performance.timeOrigin + t;
const line = (fields: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(fields)}\n`);

let deadline = performance.now() + Number(connectTimeoutArg) + Number(closeWaitArg);
const flood = startFlood(Number(portArg), Number(countArg), variant as FloodVariant, () => deadline);
await Promise.race([flood.connected, sleep(Number(connectTimeoutArg))]);
const connectedAt = performance.now();
deadline = connectedAt + Number(closeWaitArg);
line({ msg: 'connected', startedAt: abs(flood.startedAt), at: abs(connectedAt), open: flood.openNow() });
const sockets = await flood.closed;
line({ msg: 'closed', sockets });
setTimeout(() => process.exit(0), LINGER_MS);
