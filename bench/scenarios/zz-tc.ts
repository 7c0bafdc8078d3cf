const { toColumns, fromColumns } = await import(`/work/main/packages/sluice/src/exec/pool/record-columns.ts`);
const COUNTRIES = ['DE', 'FR', 'US', 'JP', 'BR'];
const wide = (i: number) => ({ id: i, n: 2000, customer: `customer-${i % 5000}`, email: `user${i}@example.com`, country: COUNTRIES[i % 5], amount: (i % 10000) / 100, currency: 'EUR', createdAt: new Date(1764547200000 + i * 1000).toISOString(), status: i % 7 === 0 ? 'refunded' : 'paid', note: i % 3 === 0 ? null : `order ${i}` });
const rows = Array.from({ length: 2000 }, (_, i) => wide(i));
const t0: number[] = [], t1: number[] = [], t2: number[] = [], t3: number[] = [];
for (let round = 0; round < 8; round++) {
  let a = performance.now(); let c;
  for (let b = 0; b < 100; b++) c = toColumns(rows);
  t0.push((performance.now() - a) * 1000 / 200000);
  a = performance.now(); let s;
  for (let b = 0; b < 100; b++) s = structuredClone(c);
  t1.push((performance.now() - a) * 1000 / 200000);
  a = performance.now(); let r;
  for (let b = 0; b < 100; b++) r = fromColumns(s);
  t2.push((performance.now() - a) * 1000 / 200000);
  a = performance.now();
  for (let b = 0; b < 100; b++) r = structuredClone(rows);
  t3.push((performance.now() - a) * 1000 / 200000);
  (globalThis as any).k = [c, s, r];
}
const best = (x: number[]) => Math.min(...x).toFixed(3);
console.log('toColumns', best(t0), 'clone of columns', best(t1), 'fromColumns', best(t2), 'clone of rows', best(t3), 'us/record');
