/**
 * Builds a batch's records again from its columns with a function made for the batch's keys: one
 * object literal a record (`{ "id": c0[i], "n": c1[i], ... }`), compiled once per set of keys.
 * The loop that stored `record[key]` for each key in turn cost 0.40 to 0.50 us a record of ten
 * keys on every thread a batch crossed to, the literal 0.02 to 0.03 (bench/RESULTS.md), and a
 * literal's record holds every value in the object itself, where one built a key at a time kept
 * those past its fourth in a second object, which a young collection then copied as well.
 *
 * A literal's records have a hidden class of their own, not the one a structured clone or the
 * loop gives: a task handed both kinds reads its items' fields through polymorphic lookups (with
 * a job's small batches cloned and the rest built, the workers' CPU over 100,000 warm rows rose by
 * a fifth), so every batch of flat records goes as columns (record-columns.ts), however small, and
 * is built here. A literal defines its properties, as a clone does, for every key but `__proto__`
 * (which a literal takes for the prototype): records with that key, and records of more keys than
 * MAX_KEYS, are left to the loop. Keys come from the caller's data, so they enter the code only as
 * JSON string literals, and at most MAX_BUILDERS sets of keys are kept, the oldest dropped first
 * (a set compiled again gives the same class). Where code cannot be generated
 * (`--disallow-code-generation-from-strings`), the loop builds every batch.
 */

/** Records from columns: `columns[j][i]` is record `i`'s value for the `j`th key. */
export type BuildRecords = (columns: readonly ArrayLike<unknown>[], length: number) => unknown[];

/** Wider records are built by the loop: a builder's code grows with its keys. */
const MAX_KEYS = 128;
/** Sets of keys whose builders are kept; a program that keeps meeting new ones drops the oldest. */
const MAX_BUILDERS = 64;

const builders = new Map<string, BuildRecords>();
let generating = true;

/** A builder for records of `keys`, or undefined when this batch is to be built by the loop. */
export function recordBuilder(keys: readonly string[]): BuildRecords | undefined {
  if (!generating || keys.length > MAX_KEYS || keys.includes('__proto__')) return undefined;
  const id = JSON.stringify(keys);
  let build = builders.get(id);
  if (build === undefined) {
    try {
      build = compile(keys);
    } catch (error) {
      // Code generation refused by the process's flags; anything else is a mistake here.
      if (!(error instanceof EvalError)) throw error;
      generating = false;
      return undefined;
    }
    if (builders.size >= MAX_BUILDERS) builders.delete(builders.keys().next().value as string);
    builders.set(id, build);
  }
  return build;
}

function compile(keys: readonly string[]): BuildRecords {
  const columns = keys.map((_, j) => `const c${j} = columns[${j}];`).join('\n');
  const fields = keys.map((key, j) => `${JSON.stringify(key)}: c${j}[i]`).join(', ');
  return new Function(
    'columns',
    'length',
    `${columns}\nconst records = new Array(length);\nfor (let i = 0; i < length; i++) records[i] = { ${fields} };\nreturn records;`,
  ) as BuildRecords;
}
