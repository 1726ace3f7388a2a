/** "Did you mean …?": the closest known name by edit distance. */

/** Levenshtein distance (insert, delete, substitute, and swap of two adjacent letters). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => [i, ...Array<number>(n).fill(0)]);
  for (let j = 0; j <= n; j++) d[0]![j] = j;
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[m]![n]!;
}

/**
 * The closest of `names` to `word`, if close enough (≤1 edit for short words, ≤2 otherwise).
 * The distance is at least the difference in length, so names whose length differs by more than
 * the limit are skipped without computing it: a 250 KB "command" costs nothing (issue 9.9).
 */
export function closest(word: string, names: Iterable<string>): string | undefined {
  const limit = word.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    if (Math.abs(word.length - n.length) > limit) continue;
    const dist = editDistance(word, n);
    if (dist <= limit && dist < bestD) {
      best = n;
      bestD = dist;
    }
  }
  return best;
}
