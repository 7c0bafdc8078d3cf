/**
 * sluice's diagnostics channels, named `sluice:<subsystem>:<event>` like undici's. Publishing
 * costs nothing when nobody subscribes, so they are always on:
 *
 * - `sluice:run:start`   `{ runId, stages }` as a run starts
 * - `sluice:run:progress` `{ runId, snapshot }` once a second while it runs
 * - `sluice:run:end`     `{ runId, report }` when it ends, however it ends
 * - `sluice:insight:warning` `{ runId, warning }` when a stage blocks the event loop, and the like
 *
 * @example
 * import diagnosticsChannel from 'node:diagnostics_channel';
 * diagnosticsChannel.subscribe('sluice:run:progress', ({ snapshot }) => metrics.push(snapshot));
 */
import diagnosticsChannel from 'node:diagnostics_channel';

export const runStartChannel = diagnosticsChannel.channel('sluice:run:start');
export const runProgressChannel = diagnosticsChannel.channel('sluice:run:progress');
export const runEndChannel = diagnosticsChannel.channel('sluice:run:end');
export const warningChannel = diagnosticsChannel.channel('sluice:insight:warning');
