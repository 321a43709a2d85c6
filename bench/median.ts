/** The median of a sample (the upper middle for an even count; NaN when empty). */
export function median(xs: readonly number[]): number {
  // A typed array sorts numerically and is a copy, leaving `xs` alone.
  const sorted = Float64Array.from(xs);
  sorted.sort();
  return sorted[Math.floor(xs.length / 2)] ?? NaN;
}
