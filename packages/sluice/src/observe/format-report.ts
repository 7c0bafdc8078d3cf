/**
 * The run report as a person reads it: a table of stages (items, rate, latency, busy share, what
 * bounds them), then the bottleneck, the event loop's health and any warning.
 */
import type { RunReport } from './run-report.js';
import { count, formatDuration, formatMs as ms } from './units.js';

export interface FormatReportOptions {
  /** The first line. @default "<status> in <duration>, <n> items from the source" */
  title?: string;
}

/**
 * @example console.log(formatReport(await flow(xs).map(f, { concurrency: 8 }).run()));
 */
export function formatReport(report: RunReport, options: FormatReportOptions = {}): string {
  const seconds = Math.max(report.durationMs, 1) / 1000;
  const rows = report.stages.map((s) => [
    s.name,
    s.kind,
    count(s.emitted),
    `${count(Math.round(s.emitted / seconds))}/s`,
    s.latencyMs === undefined ? '-' : `${ms(s.latencyMs.p50)} / ${ms(s.latencyMs.p99)}`,
    `${Math.round(s.busy * 100)}%`,
    s.classification?.label ?? '-',
    s.retries + s.skipped + s.deadLettered + s.failed === 0
      ? ''
      : [
          s.retries > 0 ? `${count(s.retries)} retried` : '',
          s.skipped > 0 ? `${count(s.skipped)} skipped` : '',
          s.deadLettered > 0 ? `${count(s.deadLettered)} dead-lettered` : '',
          s.failed > 0 ? `${count(s.failed)} failed` : '',
        ]
          .filter(Boolean)
          .join(', '),
  ]);
  const header = ['stage', 'kind', 'items', 'rate', 'p50 / p99', 'busy', 'bound', ''];
  const lines = [
    options.title ??
      `${report.status} in ${formatDuration(report.durationMs)}, ${count(report.source.items)} items from the source`,
    '',
    ...table([header, ...rows]),
    '',
  ];
  if (report.bottleneck !== undefined) {
    lines.push(`bottleneck: ${report.bottleneck.stage} (${report.bottleneck.reason})`);
  }
  const loop = report.eventLoop;
  lines.push(
    `event loop: busy ${Math.round(loop.utilization * 100)}%, delay p99 ${ms(loop.delayMs.p99)}, max ${ms(loop.delayMs.max)}`,
  );
  for (const warning of report.warnings) lines.push(`warning: ${warning.message}`);
  if (report.error !== undefined) lines.push(`error: ${report.error.message} (${report.error.code})`);
  return lines.join('\n');
}

/** Left-aligned text columns, right-aligned numbers. */
function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, c) => (c >= 2 && c <= 5 ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}
