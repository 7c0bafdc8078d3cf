/**
 * The error policy, applied to an item that failed for good (after its retries): fail the run,
 * skip the item, or hand it to the dead-letter handler. Shared by every kind of stage, so an
 * option means the same whether the stage runs on the event loop or on a worker pool.
 */
import { DeadLetterError, errorMessage, readableThrown, StageError } from '../core/errors.js';
import { RetriesExhausted } from '../core/retry.js';
import type { StageStats } from './report.js';
import type { RunControl } from './run-control.js';
import type { LaneSpec } from './stage-spec.js';

export async function settleFailure(
  spec: Pick<LaneSpec, 'name' | 'onError'>,
  stats: StageStats,
  run: RunControl,
  item: unknown,
  index: number,
  thrown: unknown,
): Promise<void> {
  // Read before anything looks at it: even `instanceof` throws on a revoked Proxy.
  const failure = readableThrown(thrown);
  const { error, attempts } =
    failure instanceof RetriesExhausted
      ? { error: readableThrown(failure.error), attempts: failure.attempts }
      : { error: failure, attempts: 1 };
  const { name, onError } = spec;
  if (onError === 'skip') {
    stats.skipped++;
    return;
  }
  if (onError === 'fail') {
    stats.failed++;
    const after = attempts > 1 ? ` after ${attempts} attempts` : '';
    run.fail(
      new StageError(`Stage "${name}" failed on item ${index}${after}: ${errorMessage(error)}`, {
        cause: error,
        stage: name,
        index,
        item,
        attempts,
      }),
    );
    return;
  }
  try {
    await onError(item, error, { stage: name, index });
    stats.deadLettered++;
  } catch (handlerError) {
    stats.failed++;
    run.fail(
      new DeadLetterError(
        `The dead-letter handler of stage "${name}" threw on item ${index}: ${errorMessage(handlerError)}`,
        { cause: handlerError, stage: name, index, item },
      ),
    );
  }
}
