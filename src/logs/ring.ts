/**
 * The last lines logged, for `rocket-cluster logs --lines N`: at most
 * `maxLines` lines and `maxChars` characters (UTF-16 units), whichever is
 * reached first; the oldest lines go first. A circular array: a push costs the
 * same however full it is.
 */
export class LineRing {
  readonly #lines: (string | undefined)[];
  readonly #maxChars: number;
  /** Index of the oldest line. */
  #first = 0;
  #count = 0;
  #chars = 0;

  constructor(maxLines: number, maxChars: number) {
    this.#lines = new Array<string | undefined>(Math.max(1, maxLines));
    this.#maxChars = maxChars;
  }

  get size(): number {
    return this.#count;
  }

  push(line: string): void {
    const capacity = this.#lines.length;
    while (this.#count > 0 && (this.#count === capacity || this.#chars + line.length > this.#maxChars)) this.#dropOldest();
    this.#lines[(this.#first + this.#count) % capacity] = line;
    this.#count++;
    this.#chars += line.length;
  }

  /** The last `n` lines (or as many as are kept), oldest first. */
  tail(n: number): string[] {
    const take = Math.max(0, Math.min(Math.floor(n), this.#count));
    const out = new Array<string>(take);
    const capacity = this.#lines.length;
    for (let i = 0; i < take; i++) out[i] = this.#lines[(this.#first + this.#count - take + i) % capacity] as string;
    return out;
  }

  #dropOldest(): void {
    this.#chars -= (this.#lines[this.#first] as string).length;
    this.#lines[this.#first] = undefined;
    this.#first = (this.#first + 1) % this.#lines.length;
    this.#count--;
  }
}
