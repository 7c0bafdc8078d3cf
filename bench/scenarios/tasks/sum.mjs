// Sum of squares below n, as a number: the CPU task every contender runs. Plain ESM so the peers'
// workers load it without a TypeScript loader; piscina and tinypool call the default export.
export default function sum(n) {
  let s = 0;
  for (let i = 0; i < n; i++) s += i * i;
  return s;
}
