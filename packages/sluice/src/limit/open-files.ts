/**
 * The open-file ceiling. Every call an IO stage has in flight usually holds a socket or a file
 * descriptor, and a process that runs out gets EMFILE on whatever opens next: a socket, a log
 * file, a worker's pipe. Adaptive limits grow until something pushes back, and running out of
 * descriptors must never be that something, so every adaptive limit in the process draws from
 * one budget below the soft limit, with headroom left for everything else.
 */
/** Soft limits assumed when /proc/self/limits cannot be read: the usual defaults of each system. */
const FALLBACK_SOFT_LIMIT = process.platform === 'darwin' ? 256 : 1024;

/**
 * The soft "Max open files" in the text of /proc/self/limits, or undefined when it is missing or
 * unlimited.
 * @example parseOpenFileLimit('Max open files  1024  4096  files') // 1024
 */
export function parseOpenFileLimit(text: string): number | undefined {
  const match = /^Max open files\s+(\S+)/m.exec(text);
  if (match === null) return undefined;
  const soft = Number(match[1]);
  return Number.isInteger(soft) && soft > 0 ? soft : undefined;
}

/** The process's soft open-file limit: read from /proc/self/limits on Linux, else a usual default. */
export function openFileLimit(): number {
  try {
    // Loaded when needed, not imported: an ES import of node:fs loads node:stream with it.
    const { readFileSync } = process.getBuiltinModule('node:fs');
    return parseOpenFileLimit(readFileSync('/proc/self/limits', 'utf8')) ?? FALLBACK_SOFT_LIMIT;
  } catch {
    return FALLBACK_SOFT_LIMIT;
  }
}

/**
 * How many descriptors adaptive limits may hold between them: the soft limit less a quarter of it
 * (at least 64), which the process keeps for its own files, servers, pipes and idle keep-alive
 * sockets.
 */
export function descriptorCeiling(softLimit: number): number {
  return Math.max(1, softLimit - Math.max(64, Math.ceil(softLimit / 4)));
}

/**
 * Descriptors held by every adaptive limit in the process, against one ceiling. A limiter that
 * finds the budget spent waits; `onRelease` wakes it when any limiter returns one.
 */
export class DescriptorBudget {
  readonly ceiling: number;
  /** Calls in flight under every adaptive limit sharing this budget; never above `ceiling`. */
  inUse = 0;
  /** Wake-ups of limiters that have waiters held back by the ceiling. */
  readonly #blocked = new Set<() => void>();

  constructor(ceiling: number) {
    this.ceiling = ceiling;
  }

  get full(): boolean {
    return this.inUse >= this.ceiling;
  }

  /** Registers a wake-up for when a descriptor is returned; called once, then forgotten. */
  whenFree(wake: () => void): void {
    this.#blocked.add(wake);
  }

  /** Wakes every limiter that was held back; each takes what it can and registers again if it must. */
  notify(): void {
    if (this.#blocked.size === 0) return;
    const wakes = [...this.#blocked];
    this.#blocked.clear();
    for (const wake of wakes) wake();
  }
}

let shared: DescriptorBudget | undefined;

/** The budget every adaptive limit in this process shares, read once. */
export function processBudget(): DescriptorBudget {
  shared ??= new DescriptorBudget(descriptorCeiling(openFileLimit()));
  return shared;
}
