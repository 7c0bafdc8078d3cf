/**
 * Live progress: on a terminal, one line per stage redrawn in place; anywhere else (a CI log, a
 * file), plain lines every few seconds, so a log is not flooded with redraws.
 */
import { checkInteger, checkOptions, invalidType } from '../core/validate.js';
import { count, formatDuration } from './units.js';

export interface StageSnapshot {
  readonly name: string;
  readonly kind: string;
  /** Items the stage has finished with, whichever way they ended. */
  readonly done: number;
  readonly inFlight: number;
  /** Items waiting in the stage's output for the next stage. */
  readonly buffered: number;
  /** Items finished per second over the last interval. */
  readonly ratePerSec: number;
  /** Items the stage will see, when the source's size is known and every stage before it is one-to-one. */
  readonly total?: number;
  /** Estimated milliseconds to go, at the current rate, when the total is known. */
  readonly etaMs?: number;
  /** cpu() stages on remote workers: items each worker has answered, by worker name. */
  readonly workers?: Readonly<Record<string, number>>;
  /** cpu() stages on remote workers: items answered from a redelivered message. */
  readonly redelivered?: number;
}

/** The per-worker counts in an executor's report (see the Executor contract's `report()`), if any. */
export function workersOf(
  report: Readonly<Record<string, unknown>>,
): Pick<StageSnapshot, 'workers' | 'redelivered'> {
  const { workers, redelivered } = report;
  if (typeof workers !== 'object' || workers === null) return {};
  const done: Record<string, number> = {};
  for (const [name, counts] of Object.entries(workers)) {
    const n = (counts as { done?: unknown } | null)?.done;
    if (typeof n === 'number') done[name] = n;
  }
  return { workers: done, ...(typeof redelivered === 'number' ? { redelivered } : {}) };
}

export interface ProgressSnapshot {
  readonly elapsedMs: number;
  readonly stages: readonly StageSnapshot[];
  /** Warnings so far (a stage blocking the event loop, say), shown under the stages. */
  readonly warnings: readonly string[];
}

export interface ProgressOptions {
  /** Where to write. @default process.stderr */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /**
   * Milliseconds between updates.
   * @default 250 on a terminal, 5000 elsewhere
   */
  intervalMs?: number;
}

const progressKeys = ['stream', 'intervalMs'] as const;

export function checkProgress(value: unknown): ProgressOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  checkOptions('progress', value, progressKeys);
  const o = value as ProgressOptions;
  if (o.stream !== undefined && typeof (o.stream as { write?: unknown }).write !== 'function') {
    throw invalidType('progress.stream', 'a writable stream', o.stream);
  }
  if (o.intervalMs !== undefined) checkInteger('progress.intervalMs', o.intervalMs, { min: 10 });
  return o;
}

export class ProgressPrinter {
  readonly #stream: NodeJS.WritableStream;
  readonly #tty: boolean;
  readonly intervalMs: number;
  /** Lines drawn last time on a terminal, to move back over them. */
  #drawn = 0;

  constructor(options: ProgressOptions) {
    const stream = options.stream ?? process.stderr;
    this.#stream = stream;
    this.#tty = (stream as { isTTY?: boolean }).isTTY === true;
    this.intervalMs = options.intervalMs ?? (this.#tty ? 250 : 5000);
  }

  update(snapshot: ProgressSnapshot): void {
    const lines = formatProgress(snapshot);
    if (!this.#tty) {
      this.#stream.write(`${lines.join('\n')}\n`);
      return;
    }
    // Up over the previous picture, then each line cleared as it is rewritten.
    this.#stream.write(`${this.#up()}${lines.map((line) => `${ESC}[2K${line}`).join('\n')}\n`);
    this.#drawn = lines.length;
  }

  /**
   * The run ended: a terminal's picture is wiped, leaving the screen to the report; a log keeps
   * its lines, which are a record.
   */
  finish(): void {
    if (!this.#tty || this.#drawn === 0) return;
    this.#stream.write(`${this.#up()}${ESC}[0J`);
    this.#drawn = 0;
  }

  #up(): string {
    return this.#drawn > 0 ? `${ESC}[${this.#drawn}A\r` : '';
  }
}

const ESC = '\x1b';

/** The progress lines for one snapshot: a header, then one line per stage. */
export function formatProgress(snapshot: ProgressSnapshot): string[] {
  const width = Math.max(...snapshot.stages.map((s) => s.name.length), 5);
  const header = `sluice running ${formatDuration(snapshot.elapsedMs)}`;
  return [
    header,
    ...snapshot.stages.map((s) => {
      const done = s.total === undefined ? count(s.done) : `${count(s.done)}/${count(s.total)}`;
      const parts = [
        `  ${s.name.padEnd(width)}`,
        done.padStart(15),
        `${count(Math.round(s.ratePerSec))}/s`.padStart(9),
      ];
      parts.push(`in flight ${count(s.inFlight)}`);
      if (s.etaMs !== undefined) parts.push(`ETA ${formatDuration(s.etaMs)}`);
      if (s.workers !== undefined) {
        const names = Object.keys(s.workers);
        parts.push(
          names.length === 0
            ? 'no worker yet'
            : `workers ${names.map((name) => `${name} ${count(s.workers?.[name] ?? 0)}`).join(', ')}`,
        );
        if (s.redelivered) parts.push(`redelivered ${count(s.redelivered)}`);
      }
      return parts.join('  ');
    }),
    ...snapshot.warnings.map((warning) => `  warning: ${warning}`),
  ];
}
