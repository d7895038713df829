/** A line or block as kept: a string, or UTF-8 bytes as a child wrote them. */
type Text = string | Buffer;

/**
 * The last lines logged, for `rocket-cluster logs --lines N`: at most
 * `maxLines` lines and `maxChars` characters (UTF-16 units of a string, bytes
 * of a Buffer), whichever is reached first; the oldest lines go first. An entry
 * is one line or a block of whole lines (a child's chunk of access lines, kept
 * as the bytes it came in: decoding and splitting it per line would cost the
 * master a string per request). A circular array: a push costs the same
 * however full it is; `tail` decodes and splits blocks only when asked.
 */
export class LineRing {
  readonly #texts: (Text | undefined)[];
  readonly #counts: number[];
  readonly #maxLines: number;
  readonly #maxChars: number;
  /** Index of the oldest entry. */
  #first = 0;
  #entries = 0;
  #lines = 0;
  #chars = 0;

  constructor(maxLines: number, maxChars: number) {
    this.#maxLines = Math.max(1, maxLines);
    this.#texts = new Array<Text | undefined>(this.#maxLines);
    this.#counts = new Array<number>(this.#maxLines).fill(0);
    this.#maxChars = maxChars;
  }

  /** Lines kept. */
  get size(): number {
    return this.#lines;
  }

  /** One line, without its newline. */
  push(line: string): void {
    this.pushBlock(line, 1);
  }

  /** `lines` whole lines joined by `\n`, without a final newline. */
  pushBlock(text: Text, lines: number): void {
    while (this.#entries > 0 && (this.#lines + lines > this.#maxLines || this.#chars + text.length > this.#maxChars)) {
      const excess = Math.max(this.#lines + lines - this.#maxLines, 0);
      const oldest = this.#counts[this.#first] as number;
      if (excess > 0 && excess < oldest && this.#chars + text.length <= this.#maxChars) this.#trimOldest(excess);
      else this.#dropOldest();
    }
    const capacity = this.#texts.length;
    const at = (this.#first + this.#entries) % capacity;
    this.#texts[at] = text;
    this.#counts[at] = lines;
    this.#entries++;
    this.#lines += lines;
    this.#chars += text.length;
  }

  /** The last `n` lines (or as many as are kept), oldest first. */
  tail(n: number): string[] {
    let want = Math.max(0, Math.min(Math.floor(n), this.#lines));
    const capacity = this.#texts.length;
    const blocks: string[][] = [];
    for (let i = this.#entries - 1; i >= 0 && want > 0; i--) {
      const at = (this.#first + i) % capacity;
      const entry = this.#texts[at] as Text;
      const text = typeof entry === 'string' ? entry : entry.toString('utf8');
      const lines = (this.#counts[at] as number) === 1 ? [text] : text.split('\n');
      blocks.push(lines.length > want ? lines.slice(lines.length - want) : lines);
      want -= Math.min(want, lines.length);
    }
    return blocks.reverse().flat();
  }

  #dropOldest(): void {
    this.#chars -= (this.#texts[this.#first] as Text).length;
    this.#lines -= this.#counts[this.#first] as number;
    this.#texts[this.#first] = undefined;
    this.#counts[this.#first] = 0;
    this.#first = (this.#first + 1) % this.#texts.length;
    this.#entries--;
  }

  /** Removes the first `k` lines of the oldest block (fewer than it holds). */
  #trimOldest(k: number): void {
    const text = this.#texts[this.#first] as Text;
    let cut = -1;
    for (let i = 0; i < k; i++) cut = text.indexOf('\n', cut + 1);
    const rest = typeof text === 'string' ? text.slice(cut + 1) : text.subarray(cut + 1);
    this.#texts[this.#first] = rest;
    this.#counts[this.#first] = (this.#counts[this.#first] as number) - k;
    this.#lines -= k;
    this.#chars -= text.length - rest.length;
  }
}
