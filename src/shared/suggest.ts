/**
 * The candidate a mistyped name most likely meant, for "did you mean"
 * hints: a spelling of the same words (`min-workers`, `min_workers` for
 * `minWorkers`) or one within a small edit distance; undefined when none is close.
 */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  const words = wordsOf(name);
  const sameWords = candidates.find((c) => wordsOf(c) === words);
  if (sameWords !== undefined) return sameWords;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(name.length / 4)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** `minWorkers`, `min-workers`, `MIN_WORKERS` → `minworkers`. */
function wordsOf(name: string): string {
  return name.replace(/[-_]/g, '').toLowerCase();
}

/** Levenshtein distance, with a transposition counted as one edit (`wrokers` → `workers`). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
