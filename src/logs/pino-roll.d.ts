// pino-roll 4 ships no types; this is the part of its API rocket-cluster uses
// (options are passed on to sonic-boom, whose stream it returns).
declare module 'pino-roll' {
  import type { SonicBoom, SonicBoomOpts } from 'sonic-boom';

  interface PinoRollOptions extends SonicBoomOpts {
    /** Base path: `<dir>/<name>.log` is written as `<dir>/<name>.<number>.log`. */
    file: string;
    /** Rotate at this size: a number and k, m or g. */
    size?: string | number;
    /** Keep `<dir>/current.log` pointing at the file written now. */
    symlink?: boolean;
    limit?: { count: number; removeOtherLogFiles?: boolean };
  }

  export default function pinoRoll(options: PinoRollOptions): Promise<SonicBoom>;
}
