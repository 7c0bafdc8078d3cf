/**
 * `sluice lab` without a subcommand: the IO, CPU and combined workloads, each by every approach,
 * as a table per workload and a chart per workload.
 */
import { availableParallelism } from 'node:os';
import { writeBarChart } from './charts.js';
import { withSession } from './session.js';
import { formatSeconds, formatSpeedup, formatTable } from './table.js';
import { type LabSizes, runWorkloads, type WorkloadName, type WorkloadResult } from './workloads.js';

export interface ComparisonOptions extends LabSizes {
  workloads: WorkloadName[];
  out: string;
  json: boolean;
}

/** What `sluice lab --json` prints. */
export interface ComparisonReport {
  command: 'lab';
  cores: number;
  node: string;
  sizes: LabSizes;
  workloads: {
    workload: WorkloadName;
    title: string;
    results: { approach: string; label: string; seconds: number; speedup: number; note?: string }[];
    chart: string;
  }[];
}

export async function runComparisons(options: ComparisonOptions): Promise<ComparisonReport> {
  const { workloads, out, json, ...sizes } = options;
  const report: ComparisonReport = {
    command: 'lab',
    cores: availableParallelism(),
    node: process.version,
    sizes,
    workloads: [],
  };
  if (!json) {
    process.stdout.write(
      `sluice lab: ${workloads.join(', ')} on ${report.cores} cores, Node ${report.node}. ` +
        'Pools are started and warmed before each clock starts.\n',
    );
  }
  await withSession((session) =>
    runWorkloads(session, workloads, sizes, async (result) => {
      const chart = await chartOf(out, result);
      report.workloads.push({
        workload: result.workload,
        title: result.title,
        results: strip(result),
        chart,
      });
      if (!json) process.stdout.write(`\n${result.title}\n${tableOf(result)}\nchart: ${chart}\n`);
    }),
  );
  if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return report;
}

function strip(result: WorkloadResult): ComparisonReport['workloads'][number]['results'] {
  return result.results.map(({ approach, label, seconds, speedup, note }) => ({
    approach,
    label,
    seconds,
    speedup,
    ...(note === undefined ? {} : { note }),
  }));
}

function tableOf(result: WorkloadResult): string {
  // A note column only when a row has something to say.
  const noted = result.results.some((r) => r.note !== undefined);
  return formatTable(
    ['approach', 'time', 'speed-up', ...(noted ? ['note'] : [])],
    result.results.map((r) => [
      r.label,
      formatSeconds(r.seconds),
      formatSpeedup(r.speedup),
      ...(noted ? [r.note ?? ''] : []),
    ]),
    ['left', 'right', 'right', 'left'],
  );
}

function chartOf(out: string, result: WorkloadResult): Promise<string> {
  return writeBarChart(out, `lab-${result.workload}`, {
    title: result.title,
    subtitle: result.subtitle,
    unit: 's',
    bars: result.results.map((r) => ({ label: r.label, value: r.seconds, speedup: r.speedup })),
  });
}
