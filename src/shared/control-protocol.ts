import { z } from 'zod';
import type { StatusReport } from './status-report.js';
import { MAX_WORKERS } from './defaults.js';

/**
 * The control plane's wire format, defined once: the CLI and a running master
 * talk over the cluster's Unix socket (src/control/), one request per
 * connection, each message one line of JSON.
 *
 *   CLI ── request ──▶ master
 *       ◀── reply ────┘            (logs --follow: `line` messages until the CLI hangs up)
 *
 * Requests are validated by the strict schemas below before anything acts on
 * them: unknown fields, wrong types and out-of-range numbers are refused, and
 * no value from the wire is ever used as a path or run as code.
 */
export const CONTROL_VERSION = 1;

/** A request line longer than this is refused without being parsed. */
export const MAX_REQUEST_BYTES = 4096;

/** The CLI refuses a reply line longer than this (a status of 256 workers is about 100 KB). */
export const MAX_REPLY_BYTES = 8 * 1024 * 1024;

/** Most lines `logs --lines` may ask for: the master keeps no more than this. */
export const MAX_LOG_LINES = 10_000;

const request = <const C extends string, T extends z.ZodRawShape>(cmd: C, shape: T) => z.strictObject({ v: z.literal(CONTROL_VERSION), cmd: z.literal(cmd), ...shape });

export const ControlRequestSchema = z.discriminatedUnion('cmd', [
  request('status', {}),
  request('reload', {}),
  request('upgrade', {}),
  request('stop', {}),
  /** `to`: the pool's new size; `by`: a change relative to the live workers. Exactly one. */
  request('scale', {
    to: z.number().int().min(1).max(MAX_WORKERS).optional(),
    by: z.number().int().min(-MAX_WORKERS).max(MAX_WORKERS).optional(),
  }).refine((r) => (r.to === undefined) !== (r.by === undefined), 'give exactly one of "to" and "by"'),
  request('logs', {
    lines: z.number().int().min(0).max(MAX_LOG_LINES),
    follow: z.boolean(),
  }),
]);

export type ControlRequest = z.infer<typeof ControlRequestSchema>;

/** Per-process CPU (% of one core, since the previous sample) and resident memory. */
export interface ProcessUsage {
  readonly cpu: number;
  readonly memory: number;
}

/** `status`: the admin listener's report plus each process's CPU and memory, by pid. */
export interface StatusResult {
  readonly status: StatusReport;
  readonly usage: Readonly<Record<number, ProcessUsage>>;
}

export interface ReloadResult {
  readonly generation: number;
  readonly workers: number;
  /** Settings read again from the config that the new workers got, and those that changed but need `upgrade`. */
  readonly applied: readonly string[];
  readonly needsUpgrade: readonly string[];
}

/** `upgrade`: the new master, ready; the old one hands over and exits after the reply. */
export interface UpgradeResult {
  readonly pid: number;
}

export interface ScaleResult {
  readonly min: number;
  readonly max: number;
  readonly workers: number;
}

export interface StopResult {
  readonly pid: number;
}

export interface ControlResults {
  status: StatusResult;
  reload: ReloadResult;
  upgrade: UpgradeResult;
  stop: StopResult;
  scale: ScaleResult;
  logs: { readonly lines: number };
}

export type ControlReply =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } }
  /** One log line (already a JSON text), streamed after the reply of `logs`. */
  | { readonly line: string };
