/**
 * A flow as a Node Readable in object mode (`flow.toReadable()`). Each time the stream asks for
 * data it is handed every output that is ready, until its buffer is full, in that one turn; only
 * when none is ready does it wait, for one. `Readable.from(flow)` went through the async iterator
 * instead: a promise and a turn for every output, and a flow piped into a stream ran at the speed
 * of `for await`.
 *
 * The run starts at the stream's first read. Destroying the stream cancels the run; a run that
 * fails destroys the stream with the run's error (a SluiceError carrying the report). An output
 * pushed into the stream is delivered: the stream holds at most its `highWaterMark` of them
 * ahead of its reader, and what it does with them when destroyed is a stream's business, as for
 * any Node stream.
 */
import type { Readable } from 'node:stream';
import { EMPTY } from '../core/channel.js';
import { TerminalError } from '../core/errors.js';
import type { Run } from './run.js';

/** Node's default buffer for object-mode streams: how many outputs the stream holds ahead of its reader. */
const DEFAULT_HIGH_WATER_MARK = 16;

export function flowReadable<T>(start: () => Run<T>, highWaterMark = DEFAULT_HIGH_WATER_MARK): Readable {
  // Loaded here, not imported: node:stream costs every program that imports sluice about 1.4 ms.
  const { Readable } = process.getBuiltinModule('node:stream');
  let run: Run<T> | undefined;
  let pumping = false;

  const readable: Readable = new Readable({
    objectMode: true,
    highWaterMark,
    read() {
      if (!pumping) void pump();
    },
    destroy(error, callback) {
      run?.cancel();
      callback(error);
    },
  });

  /** Pushes ready outputs until the stream's buffer is full; waits (once) when none is ready. */
  async function pump(): Promise<void> {
    pumping = true;
    try {
      // A run that cannot start (a source already read) errors the stream, as a failed run does.
      run ??= start();
      for (;;) {
        let value = run.nextReady();
        if (value === EMPTY) {
          const next = await run.next();
          if (readable.destroyed) return;
          if (next.done === true) {
            readable.push(null);
            return;
          }
          value = next.value;
        }
        if (value === null) {
          // null ends a Node stream: pushed, it would end this one early and silently lose the rest.
          throw new TerminalError(
            'toReadable() cannot pass null: a Node stream ends at null. Map null outputs to another value, or read the flow with for await',
          );
        }
        if (!readable.push(value)) return;
      }
    } catch (error) {
      // A failed run rejected `next()` with its own error; any other is the stream's, and fails the run.
      run?.fail(error);
      readable.destroy(error as Error);
    } finally {
      pumping = false;
    }
  }

  return readable;
}
