/**
 * Why a run's callbacks are never function literals assigned straight to a property: V8 allocates
 * such a function (and an object literal's getter) in the old generation, and a young-generation
 * collection keeps whatever it reaches until the next full collection. Runs 200,000 "runs" of a
 * small object graph in a child process per form, interpreted (`--no-opt`, as the first runs of
 * every process are), and prints what each young collection kept.
 *   node bench/scenarios/closure-survival.mjs
 * Forms: `assigned` (obj.cb = () => owner), `via-const` (const cb = () => owner; obj.cb = cb),
 * `class-field` (a class whose field is an arrow), `getter` ({ get owner() { return owner } }).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const form = process.argv[2];
if (form === undefined) {
  const self = fileURLToPath(import.meta.url);
  const flags = [
    '--no-opt',
    '--min-semi-space-size=16',
    '--no-allocation-site-pretenuring',
    '--trace-gc-nvp',
  ];
  for (const name of ['assigned', 'via-const', 'class-field', 'getter']) {
    const out = execFileSync(process.execPath, [...flags, self, name], { encoding: 'utf8' });
    const kept = out
      .split('\n')
      .filter((line) => line.includes('gc=s '))
      .slice(1, 7)
      .map((line) => Math.round(Number(/ new_space_survived=(\d+)/.exec(line)?.[1]) / 1024));
    console.log(`${name.padEnd(12)} KB kept by each young collection: ${kept.join(', ')}`);
  }
} else {
  class Owner {
    rows = new Array(200).fill(1);
  }
  class Holder {
    cb = undefined;
  }
  class WithField {
    constructor(owner) {
      this.owner = owner;
    }
    cb = () => this.owner;
  }
  const once = (owner) => {
    if (form === 'assigned') {
      const holder = new Holder();
      holder.cb = () => owner;
      return holder;
    }
    if (form === 'via-const') {
      const holder = new Holder();
      const cb = () => owner;
      holder.cb = cb;
      return holder;
    }
    if (form === 'class-field') return new WithField(owner);
    return {
      get owner() {
        return owner;
      },
    };
  };
  let last;
  for (let i = 0; i < 200_000; i++) last = once(new Owner());
  if (last === undefined) process.exit(1);
}
