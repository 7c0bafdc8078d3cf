/**
 * Counts the AbortControllers made from now on (what a run that reads no signal must not make):
 * swaps `globalThis.AbortController` for a counting subclass until `restore()`.
 */
export function countAbortControllers(): { readonly made: number; restore(): void } {
  const Original = globalThis.AbortController;
  let made = 0;
  globalThis.AbortController = class extends Original {
    constructor() {
      super();
      made++;
    }
  };
  return {
    get made() {
      return made;
    },
    restore: () => {
      globalThis.AbortController = Original;
    },
  };
}
