/**
 * The classic question, answered from measurement: is a stage IO-bound (its calls mostly wait,
 * so more of them at once helps) or CPU-bound (they mostly compute, so they belong on other cores,
 * and more concurrency on the event loop only queues them)?
 *
 * The evidence is CPU time against wall time per call. For a cpu() stage the CPU time is what its
 * workers report. For an in-process stage it is the time a call held the event loop before it
 * returned, plus a share of the loop's remaining busy time: work a function does after its first
 * await (parsing a response, say) runs on the loop too, but no single call can be timed for it, so
 * the loop time no stage accounts for is spread over the stages whose calls await, by their calls.
 */
import { round } from './stage-metrics.js';

/** `light`: calls so quick (under LIGHT_BELOW_MS) that neither waiting nor computing bounds them. */
export type Boundness = 'io-bound' | 'cpu-bound' | 'mixed' | 'light';

export interface Classification {
  readonly label: Boundness;
  /** Estimated CPU milliseconds per item (on the event loop, or on a worker for cpu() stages). */
  readonly cpuMsPerItem: number;
  /** Mean milliseconds from a call's start to its result. */
  readonly wallMsPerItem: number;
  /** cpuMsPerItem / wallMsPerItem, 0 to 1. */
  readonly cpuShare: number;
  /** The measurements behind the label, in a sentence. */
  readonly evidence: string;
}

/** Below this share of CPU a stage is waiting; above CPU_BOUND it is computing; between, mixed. */
export const IO_BOUND_BELOW = 0.25;
export const CPU_BOUND_ABOVE = 0.75;
/** A call this quick is bound by sluice's own bookkeeping more than by anything it does. */
export const LIGHT_BELOW_MS = 0.05;

/** What the classifier needs to know of a stage. */
export interface StageSample {
  readonly name: string;
  readonly where: 'event-loop' | 'workers' | 'none';
  /** Items the stage took. */
  readonly calls: number;
  /** Mean latency of a call, ms (undefined when nothing was sampled). */
  readonly wallMsPerItem: number | undefined;
  /**
   * Event loop ms per call held synchronously (event-loop stages; a failed call counts as holding
   * none), or worker ms per item (workers). Undefined when there is nothing to go by: no call of
   * the stage succeeded.
   */
  readonly cpuMsPerItem: number | undefined;
  /**
   * Event loop ms its calls held in all, estimated from its sample; for workers, the ms their items
   * ran on the calling thread (a pool's head start); 0 for batches.
   */
  readonly heldMs: number;
  /** Its busy share: time with work in flight over the time it could have had, 0 to 1. */
  readonly busy: number;
  /** Lanes or workers. */
  readonly concurrency: number;
}

export interface RunSample {
  readonly durationMs: number;
  readonly loopBusyMs: number;
  readonly loopUtilization: number;
}

export interface Bottleneck {
  /** A stage's name, or 'source' when every stage waits for input. */
  readonly stage: string;
  readonly busy: number;
  readonly reason: string;
}

/** Labels every stage that ran on the event loop or on workers; undefined for the others (batch). */
export function classify(stages: readonly StageSample[], run: RunSample): (Classification | undefined)[] {
  const onLoop = stages.filter((s) => s.where === 'event-loop' && s.wallMsPerItem !== undefined);
  // (A cpu() stage holds the loop too while its pool's calling thread runs items.)
  const heldMs = stages.reduce((sum, s) => sum + s.heldMs, 0);
  // Stages whose calls return long before they settle await something: after that await they may
  // compute, on the loop, untimed. They share what the loop did that no timed call accounts for.
  const awaiting = onLoop.filter((s) => (s.wallMsPerItem ?? 0) > 2 * (s.cpuMsPerItem ?? 0));
  const awaitingCalls = awaiting.reduce((sum, s) => sum + s.calls, 0);
  const unaccounted = Math.max(0, run.loopBusyMs - heldMs);

  return stages.map((s) => {
    if (s.where === 'none' || s.wallMsPerItem === undefined || s.cpuMsPerItem === undefined) return undefined;
    let cpu = s.cpuMsPerItem;
    if (s.where === 'event-loop' && awaiting.includes(s) && awaitingCalls > 0) {
      cpu += unaccounted / awaitingCalls;
    }
    const wall = Math.max(s.wallMsPerItem, cpu);
    const share = wall === 0 ? 0 : cpu / wall;
    const label: Boundness =
      wall < LIGHT_BELOW_MS
        ? 'light'
        : s.where === 'workers' || share > CPU_BOUND_ABOVE
          ? 'cpu-bound'
          : share < IO_BOUND_BELOW
            ? 'io-bound'
            : 'mixed';
    return {
      label,
      cpuMsPerItem: round(cpu),
      wallMsPerItem: round(wall),
      cpuShare: round(share),
      evidence: evidence(s, cpu, wall, share, run),
    };
  });
}

function evidence(s: StageSample, cpu: number, wall: number, share: number, run: RunSample): string {
  const percent = (x: number): string => `${Math.round(x * 100)}%`;
  if (s.where === 'workers') {
    return `${fmt(cpu)} ms of worker time per item on ${s.concurrency} workers, busy ${percent(s.busy)}`;
  }
  return `${fmt(cpu)} ms of CPU in ${fmt(wall)} ms per item (${percent(share)}), event loop busy ${percent(run.loopUtilization)}`;
}

/**
 * The stage that sets the pace: one that computes on a saturated event loop, else one whose
 * calls' starts and ends saturate it, else the busiest. When every stage is idle most of the time
 * on a loop with time to spare, they are all waiting for input: the source.
 */
export function findBottleneck(
  stages: readonly StageSample[],
  classes: readonly (Classification | undefined)[],
  run: RunSample,
): Bottleneck | undefined {
  if (stages.length === 0) return undefined;
  if (run.loopUtilization > 0.9) {
    const computing = stages[heaviestOnLoop((c) => c.cpuShare >= 0.5)];
    if (computing !== undefined) {
      return {
        stage: computing.name,
        busy: round(run.loopUtilization),
        reason: 'it computes on the event loop, which was busy nearly all the time',
      };
    }
    // No stage computes, yet the loop was busy nearly all the time: starting and finishing the
    // calls filled it (thousands of requests in flight, say), and the stages idled waiting for a
    // turn of the loop, not for input.
    const heaviest = heaviestOnLoop(() => true);
    const waiting = stages[heaviest];
    if (waiting !== undefined && cpuTotal(heaviest) >= run.loopBusyMs / 2) {
      return {
        stage: waiting.name,
        busy: round(run.loopUtilization),
        reason: 'starting and finishing its calls kept the event loop busy nearly all the time',
      };
    }
  }
  let busiest = stages[0] as StageSample;
  for (const s of stages) if (s.busy > busiest.busy) busiest = s;
  if (busiest.busy < 0.5) {
    return {
      stage: 'source',
      busy: round(busiest.busy),
      reason: 'every stage was idle more than half the time, waiting for input',
    };
  }
  return {
    stage: busiest.name,
    busy: round(busiest.busy),
    reason: `its ${busiest.where === 'workers' ? 'workers' : 'lanes'} were busy ${Math.round(busiest.busy * 100)}% of the time`,
  };

  /** The event-loop stage whose calls took the most of the loop, of those `counts` accepts; -1 for none. */
  function heaviestOnLoop(counts: (c: Classification) => boolean): number {
    let heaviest = -1;
    for (const [i, c] of classes.entries()) {
      if (stages[i]?.where !== 'event-loop' || c === undefined || !counts(c)) continue;
      if (heaviest < 0 || cpuTotal(i) > cpuTotal(heaviest)) heaviest = i;
    }
    return heaviest;
  }

  function cpuTotal(i: number): number {
    return (classes[i]?.cpuMsPerItem ?? 0) * (stages[i]?.calls ?? 0);
  }
}

function fmt(ms: number): string {
  return ms >= 10 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(1) : ms.toFixed(3);
}
