/**
 * Every permutation of 0..n-1 in lexicographic order (identity first). perm[s] is the estimate
 * assigned to reference s. n! rows, so PIT stays practical up to n of about 7.
 */
export function permutations(n: number): number[][] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`permutations: n must be a positive integer, got ${n}`);
  if (n > 8) throw new Error(`permutations: n = ${n} gives ${factorial(n)} permutations; PIT over more than 8 sources is not supported`);
  const out: number[][] = [];
  const walk = (prefix: number[], rest: number[]): void => {
    if (rest.length === 0) {
      out.push(prefix);
      return;
    }
    for (let i = 0; i < rest.length; i++) walk([...prefix, rest[i]!], [...rest.slice(0, i), ...rest.slice(i + 1)]);
  };
  walk([], Array.from({ length: n }, (_, i) => i));
  return out;
}

function factorial(n: number): number {
  return n <= 1 ? 1 : n * factorial(n - 1);
}
