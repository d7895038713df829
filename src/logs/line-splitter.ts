import { StringDecoder } from 'node:string_decoder';

/**
 * Longest line kept whole (in UTF-16 units). A child that writes without a
 * newline cannot grow the master's memory: past this its line is cut and the
 * piece sent on, the rest becoming the next line.
 */
export const MAX_LINE_LENGTH = 64 * 1024;

/**
 * Splits a child's output stream into lines. A chunk may end mid-line or in
 * the middle of a UTF-8 character: the rest waits for the next chunk, and
 * `end()` sends what is left when the stream closes. `\r\n` counts as `\n`.
 */
export class LineSplitter {
  readonly #decoder = new StringDecoder('utf8');
  readonly #emit: (line: string) => void;
  readonly #max: number;
  #partial = '';
  /** The last chunk ended with a newline: nothing waits, not even part of a character. */
  #atLineStart = true;

  constructor(emit: (line: string) => void, maxLength = MAX_LINE_LENGTH) {
    this.#emit = emit;
    this.#max = Math.max(2, maxLength); // a cut must keep at least one character
  }

  /** Nothing is waiting for the rest of a line: a chunk of whole lines may bypass the splitter. */
  get atLineStart(): boolean {
    return this.#atLineStart;
  }

  push(chunk: Buffer | string): void {
    const last = typeof chunk === 'string' ? chunk.charCodeAt(chunk.length - 1) : chunk[chunk.length - 1];
    this.#atLineStart = last === 0x0a;
    const text = typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      start = nl + 1;
      if (this.#partial === '') {
        this.#line(piece);
      } else {
        const line = this.#partial + piece;
        this.#partial = '';
        this.#line(line);
      }
    }
    if (start < text.length) {
      this.#partial += text.slice(start);
      while (this.#partial.length >= this.#max) {
        const cut = cutAt(this.#partial, this.#max);
        this.#emit(this.#partial.slice(0, cut));
        this.#partial = this.#partial.slice(cut);
      }
    }
  }

  /** The stream ended: a last line without its newline is still a line. */
  end(): void {
    const rest = this.#partial + this.#decoder.end();
    this.#partial = '';
    if (rest !== '') this.#line(rest);
  }

  #line(raw: string): void {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    while (line.length > this.#max) {
      const cut = cutAt(line, this.#max);
      this.#emit(line.slice(0, cut));
      line = line.slice(cut);
    }
    this.#emit(line);
  }
}

/** Where to cut a long line near `max` without splitting a surrogate pair (an emoji) in two. */
function cutAt(text: string, max: number): number {
  const code = text.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}
