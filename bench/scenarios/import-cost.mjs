/**
 * What importing a library costs a cold process: each module imported once in a fresh `node`,
 * timed around the dynamic import, rounds interleaved. sluice is the compiled library (`dist/`,
 * what users install), beside the peers a user would otherwise reach for.
 *   node bench/scenarios/import-cost.mjs [rounds]
 * Prints a Markdown table of the best and median milliseconds of each.
 */
import { execFileSync } from 'node:child_process';

const modules = ['sluice', 'sluice/task', 'p-map', 'p-limit', 'piscina', 'tinypool', 'workerpool', 'undici'];
const rounds = Number(process.argv[2] ?? 7);
const runs = new Map(modules.map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const name of modules) {
    const code = `const t = performance.now(); await import(${JSON.stringify(name)}); console.log(performance.now() - t);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    runs.get(name).push(Number(out.trim()));
  }
}
console.log(`| module | best | median |\n| --- | ---: | ---: |`);
for (const [name, values] of runs) {
  const sorted = [...values].sort((a, b) => a - b);
  console.log(
    `| ${name} | ${sorted[0].toFixed(1)} ms | ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} ms |`,
  );
}
