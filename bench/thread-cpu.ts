/**
 * Where a timed run's CPU went, thread by thread: the main thread, the threads a contender started
 * in its setup (its pool's workers), the runtime's own threads that were there before it (V8's
 * compiler and garbage-collector helpers, libuv's pool), and optionally another process (the
 * benchmark's HTTP server). On two cores these shares explain a wall time: no schedule can beat
 * their sum divided by the cores.
 *
 * Reads /proc, so it reports nothing off Linux. The kernel counts in clock ticks (10 ms), so a
 * short run's figures carry about that much error per thread.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuShares {
  mainMs: number;
  /** Threads started after the ledger was opened: the pool's workers. */
  poolMs: number;
  /** Threads the runtime had started before: V8's compiler and GC helpers, libuv's pool. */
  runtimeMs: number;
  /** The other process, when one was named. */
  otherProcessMs?: number;
}

const TICK_MS = 10;

/** user + system CPU of one /proc stat line, in milliseconds. */
function statCpuMs(path: string): number | undefined {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch {
    return undefined; // the thread or process has ended
  }
  // The command name may hold spaces and parentheses: fields are counted after its last ')'.
  const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

function threadsCpuMs(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const ms = statCpuMs(`/proc/self/task/${tid}/stat`);
    if (ms !== undefined) out.set(Number(tid), ms);
  }
  return out;
}

export class CpuLedger {
  readonly #enabled = process.platform === 'linux';
  /** Threads alive when the ledger opened: the runtime's, not the contender's. */
  readonly #runtimeThreads: Set<number>;
  #threadsAtStart = new Map<number, number>();
  /** The other process and its CPU at the start, when one was named and could be read. */
  #other: { pid: number; ms: number } | undefined;

  /** Open before the contender's setup, so the threads it starts are told apart. */
  constructor() {
    this.#runtimeThreads = this.#enabled ? new Set(threadsCpuMs().keys()) : new Set();
  }

  /** Marks the start of the timed run; `otherPid` is a process whose CPU counts too. */
  start(otherPid?: number): void {
    if (!this.#enabled) return;
    const ms = otherPid === undefined ? undefined : statCpuMs(`/proc/${otherPid}/stat`);
    this.#other = otherPid === undefined || ms === undefined ? undefined : { pid: otherPid, ms };
    this.#threadsAtStart = threadsCpuMs();
  }

  /** The CPU each share used since `start`, or undefined off Linux. */
  stop(): CpuShares | undefined {
    if (!this.#enabled) return undefined;
    const shares: CpuShares = { mainMs: 0, poolMs: 0, runtimeMs: 0 };
    for (const [tid, ms] of threadsCpuMs()) {
      const used = ms - (this.#threadsAtStart.get(tid) ?? 0);
      if (tid === process.pid) shares.mainMs += used;
      else if (this.#runtimeThreads.has(tid)) shares.runtimeMs += used;
      else shares.poolMs += used;
    }
    if (this.#other !== undefined) {
      const now = statCpuMs(`/proc/${this.#other.pid}/stat`);
      if (now !== undefined) shares.otherProcessMs = now - this.#other.ms;
    }
    return shares;
  }
}
