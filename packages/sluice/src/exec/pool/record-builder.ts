/**
 * Builds a batch's records again from its columns with a function made for the batch's keys: one
 * object literal a record (`{ "id": c0[i], "n": c1[i], ... }`), compiled once per set of keys.
 * Adding a record's keys one by one (`record[key] = value`) cost 0.40 to 0.50 us a record of ten
 * keys, on every thread a batch crossed to; the literal 0.03 (bench/RESULTS.md). A literal's record
 * also holds all its values in the object itself, where one built a key at a time kept those past
 * its fourth in a separate store, which every read of them then followed.
 *
 * A literal defines its properties as a structured clone does, never through a setter, for every
 * key but `__proto__` (which a literal would take for the prototype): such a batch, a batch of
 * more keys than MAX_KEYS, and a batch too small to pay for compiling take the loop. Keys come
 * from the caller's data, so they enter the code only as JSON string literals, and at most
 * MAX_BUILDERS sets of keys are kept, the oldest dropped first. Where code cannot be generated
 * (`--disallow-code-generation-from-strings`), the loop builds every batch.
 */
/** Records from columns: `columns[j][i]` is record `i`'s value for the `j`th key. */
export type BuildRecords = (columns: readonly ArrayLike<unknown>[], length: number) => unknown[];

/** Fewer records than this are built by the loop: compiling a builder costs about 50 records' worth. */
const MIN_RECORDS = 64;
/** Wider records are built by the loop: a builder's code grows with its keys. */
const MAX_KEYS = 128;
/** Sets of keys whose builders are kept; a program that keeps meeting new ones drops the oldest. */
const MAX_BUILDERS = 64;

const builders = new Map<string, BuildRecords>();
let generating = true;

/** A builder for records of `keys`, or undefined when this batch is to be built by the loop. */
export function recordBuilder(keys: readonly string[], length: number): BuildRecords | undefined {
  if (!generating || length < MIN_RECORDS || keys.length > MAX_KEYS || keys.includes('__proto__'))
    return undefined;
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
