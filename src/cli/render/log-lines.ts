import { createRequire } from 'node:module';

/**
 * Prints log lines as they came (JSON, one per line) or, on a terminal, as
 * pino-pretty formats them. A line that is not JSON is printed as is.
 */
export function logLinePrinter(out: NodeJS.WritableStream, pretty: boolean): (line: string) => void {
  if (!pretty) return (line) => void out.write(`${line}\n`);
  // pino-pretty (and its dependencies) only when the output is a terminal.
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  const format = prettyFactory({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'hostname' });
  return (line) => {
    let formatted: string | undefined;
    try {
      formatted = format(JSON.parse(line) as Record<string, unknown>);
    } catch {
      formatted = undefined;
    }
    out.write(formatted ?? `${line}\n`);
  };
}
