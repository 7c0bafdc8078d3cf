/** The CPU workload of the classic write-ups: the sum of i * i for i below n. */
export function sumOfSquares(n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += i * i;
  return s;
}
