/**
 * The demo's summary: the run report (per stage its rate, latency, busy share and bound, then the
 * bottleneck), followed by the demo's own counts and where the data is.
 */
import type { RemoteStageStats } from '@sluice/nats';
import type { Bottleneck, Boundness, RunReport, RunStatus } from 'sluice';
import { formatReport } from 'sluice';

export interface StageRate {
  readonly name: string;
  readonly kind: string;
  readonly entered: number;
  /** Items passed on; for forEach, items consumed. */
  readonly outputs: number;
  /** Items entered per second of the run. */
  readonly perSecond: number;
  readonly retries: number;
  readonly deadLettered: number;
  /** What bounds the stage, when it ran on the event loop or on workers. */
  readonly bound?: Boundness;
  /** Latency p99 of a call, ms. */
  readonly p99Ms?: number;
}

/** With `--nats`: who normalized what, and what the broker had to deliver twice. */
export interface RemoteSummary {
  /** Records normalized per worker name. */
  readonly workers: Readonly<Record<string, number>>;
  /** Records answered from a message delivered again (a worker died or stalled holding it). */
  readonly redelivered: number;
  /** Answers dropped because the record had one already. */
  readonly duplicates: number;
}

export function remoteSummary(stats: RemoteStageStats): RemoteSummary {
  return {
    workers: Object.fromEntries(Object.entries(stats.workers).map(([name, counts]) => [name, counts.done])),
    redelivered: stats.redelivered,
    duplicates: stats.duplicates,
  };
}

export interface DemoSummary {
  readonly status: RunStatus;
  readonly seconds: number;
  readonly seed: number;
  readonly assets: number;
  readonly providers: number;
  readonly pages: number;
  readonly records: number;
  readonly uniqueDevices: number;
  /** Devices reported by more than one provider, merged into one row. */
  readonly correlated: number;
  readonly retried: number;
  readonly rateLimited: number;
  readonly deadLetters: { readonly pages: number; readonly records: number };
  readonly database: string;
  /** With `--nats`: the normalize stage's remote workers. */
  readonly remote?: RemoteSummary;
  readonly stages: readonly StageRate[];
  readonly bottleneck?: Bottleneck;
  /** The run report behind the summary. */
  readonly report: RunReport;
}

/** Per-stage counts and rates from a report. */
export function stageRates(report: RunReport): StageRate[] {
  const seconds = Math.max(report.durationMs, 1) / 1000;
  return report.stages.map((s) => ({
    name: s.name,
    kind: s.kind,
    entered: s.entered,
    outputs: s.kind === 'forEach' ? s.emitted : s.outputs,
    perSecond: Math.round(s.entered / seconds),
    retries: s.retries,
    deadLettered: s.deadLettered,
    ...(s.classification === undefined ? {} : { bound: s.classification.label }),
    ...(s.latencyMs === undefined ? {} : { p99Ms: s.latencyMs.p99 }),
  }));
}

export function demoSummary(
  report: RunReport,
  facts: Omit<
    DemoSummary,
    | 'status'
    | 'seconds'
    | 'pages'
    | 'records'
    | 'retried'
    | 'deadLetters'
    | 'stages'
    | 'bottleneck'
    | 'report'
  >,
): DemoSummary {
  const stage = (name: string) => report.stages.find((s) => s.name === name);
  return {
    status: report.status,
    seconds: Math.round(report.durationMs / 10) / 100,
    ...facts,
    pages: stage('fetch')?.emitted ?? 0,
    records: stage('split')?.outputs ?? 0,
    retried: report.stages.reduce((sum, s) => sum + s.retries, 0),
    deadLetters: { pages: stage('fetch')?.deadLettered ?? 0, records: stage('normalize')?.deadLettered ?? 0 },
    stages: stageRates(report),
    ...(report.bottleneck === undefined ? {} : { bottleneck: report.bottleneck }),
    report,
  };
}

const n = (value: number) => value.toLocaleString('en-US');

function remoteLine(remote: RemoteSummary): string {
  const workers = Object.entries(remote.workers)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, done]) => `${name} ${n(done)}`);
  return `  remote workers    ${workers.join(', ') || 'none'} (${n(remote.redelivered)} redelivered, ${n(remote.duplicates)} duplicates dropped)`;
}

/** Prints the demo's summary, as text or as one JSON document. */
export function printDemoSummary(
  summary: DemoSummary,
  json: boolean,
  out: NodeJS.WritableStream = process.stdout,
): void {
  if (json) {
    out.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  const s = summary;
  out.write(
    [
      formatReport(s.report, {
        title: `${s.status === 'completed' ? 'Inventory loaded' : `Inventory run ${s.status}`} in ${s.seconds.toFixed(2)} s: ${n(s.providers)} providers, seed ${s.seed}`,
      }),
      '',
      `  pages fetched     ${n(s.pages)}`,
      `  records fetched   ${n(s.records)}`,
      `  unique devices    ${n(s.uniqueDevices)} (${n(s.correlated)} seen by more than one provider, merged)`,
      `  retried           ${n(s.retried)} (${n(s.rateLimited)} after a 429 with Retry-After)`,
      `  dead letters      ${n(s.deadLetters.pages)} page${s.deadLetters.pages === 1 ? '' : 's'}, ${n(s.deadLetters.records)} records`,
      ...(s.remote === undefined ? [] : [remoteLine(s.remote)]),
      '',
      `Data: ${s.database}`,
      '',
    ].join('\n'),
  );
}
