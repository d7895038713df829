/**
 * Prints log lines as they came (JSON, one per line) or, on a terminal, in
 * the same pretty format a foreground cluster uses.
 */
export async function logLinePrinter(out: NodeJS.WritableStream, pretty: boolean): Promise<(line: string) => void> {
  if (!pretty) return (line) => void out.write(`${line}\n`);
  // pino-pretty and its dependencies are loaded only for a terminal.
  const { prettyLogLine } = await import('../../logs/pretty.js');
  const format = prettyLogLine();
  return (line) => {
    const text = format(line);
    out.write(text.endsWith('\n') ? text : `${text}\n`);
  };
}
