/**
 * The executor providers the conformance suite runs (test/exec/conformance.ts names them by
 * module and export, so a child process can make its own). Small pools: the machine is shared,
 * and one crash retry keeps the crash tests short.
 */
import { type ExecutorProvider, inProcess, processes, threads } from '../../src/index.js';

export const threadPool = (): ExecutorProvider =>
  threads({ workers: 2, maxCrashRetries: 1, deadlineGraceMs: 200 });
export const processPool = (): ExecutorProvider =>
  processes({ workers: 2, maxCrashRetries: 1, deadlineGraceMs: 200 });
export const callingThread = (): ExecutorProvider => inProcess();
