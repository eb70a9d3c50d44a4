// Chart series that stay small however long a run goes: at `max` points, neighbours are averaged in
// pairs. Each append copies at most `max` points (the state arrays are replaced, not mutated).
export interface Point {
  step: number;
  value: number;
}

export const MAX_POINTS = 400;

export function appendPoint(points: readonly Point[], p: Point, max = MAX_POINTS): Point[] {
  const next = [...points, p];
  if (next.length < max) return next;
  const half: Point[] = [];
  for (let i = 0; i + 1 < next.length; i += 2) half.push({ step: next[i + 1]!.step, value: (next[i]!.value + next[i + 1]!.value) / 2 });
  if (next.length % 2) half.push(next[next.length - 1]!);
  return half;
}
