/**
 * `sluice lab bigfile`: the big-file scan of the write-ups. A web-server access log is generated
 * (streamed to disk) or given, and the lines of one user are counted: on one thread streaming
 * chunks, line by line with readline, with sluice (chunks moved to a worker pool and counted
 * there), and with `grep -cF` for reference. Every count must agree.
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { CpuTask } from 'sluice';
import { flow, move } from 'sluice';
import { writeAccessLog } from './access-log.js';
import { writeBarChart } from './charts.js';
import { countOccurrences, userNeedle } from './count.js';
import { type ByteRange, lineChunks } from './line-chunks.js';
import { type Approach, measure } from './measure.js';
import { formatBytes } from './options.js';
import { poolApproach } from './resources.js';
import { type LabSession, withSession } from './session.js';
import { formatSeconds, formatSpeedup, formatTable, plural } from './table.js';
import type { CountItem } from './tasks/count.task.js';
import type { RangeItem } from './tasks/count-range.task.js';

export interface BigfileOptions {
  /** Bytes of log to generate; ignored with `file`. */
  size: number;
  /** An existing log to scan instead of generating one. */
  file?: string;
  user: string;
  chunk: number;
  workers: number;
  keep: boolean;
  out: string;
  json: boolean;
}

/** What `sluice lab bigfile --json` prints. */
export interface BigfileReport {
  command: 'lab bigfile';
  file: string;
  bytes: number;
  /** Seconds spent writing the log; 0 for a given file. */
  generateSeconds: number;
  user: string;
  count: number;
  results: { approach: string; label: string; seconds: number; speedup: number; count: number }[];
  peakRssMb: number;
  chart: string;
}

export function runBigfile(options: BigfileOptions): Promise<BigfileReport> {
  return withSession(async (session) => {
    const say = (line: string): void => {
      if (!options.json) process.stdout.write(`${line}\n`);
    };
    const { path, bytes, generateSeconds } = await logFile(session, options, say);
    const needle = userNeedle(options.user);
    const grep = await hasGrep();
    if (!grep) say('grep was not found: its reference run is left out.');
    const measured = await measure(
      session,
      approaches(session, { path, bytes }, needle, options, grep),
      (a, b) => a === b,
      (count) => `${count} lines`,
    );
    const results = measured.map(({ approach, label, seconds, speedup, result }) => ({
      approach,
      label,
      seconds,
      speedup,
      count: result,
    }));
    const chart = await writeBarChart(options.out, 'lab-bigfile', {
      title: `Counting ${options.user}'s lines in a ${formatBytes(bytes)} access log`,
      subtitle: `${plural(options.workers, 'worker')}, ${formatBytes(options.chunk)} chunks; lower is better`,
      unit: 's',
      bars: results.map((r) => ({ label: r.label, value: r.seconds, speedup: r.speedup })),
    });
    const report: BigfileReport = {
      command: 'lab bigfile',
      file: path,
      bytes,
      generateSeconds,
      user: options.user,
      count: results[0]?.count ?? 0,
      results,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      chart,
    };
    if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      say(`\n${report.count} lines of ${options.user} in ${formatBytes(bytes)}; every approach agrees.`);
      say(
        formatTable(
          ['approach', 'time', 'speed-up', 'throughput'],
          results.map((r) => [
            r.label,
            formatSeconds(r.seconds),
            formatSpeedup(r.speedup),
            `${formatBytes(bytes / r.seconds)}/s`,
          ]),
          ['left', 'right', 'right', 'right'],
        ),
      );
      say(`peak memory: ${report.peakRssMb} MB (the log is streamed, never held whole)`);
      say(`chart: ${chart}`);
    }
    return report;
  });
}

/** The log to scan: the one given, or a fresh one in --out (removed at the end unless --keep). */
async function logFile(
  session: LabSession,
  options: BigfileOptions,
  say: (line: string) => void,
): Promise<{ path: string; bytes: number; generateSeconds: number }> {
  if (options.file !== undefined) {
    const path = resolve(options.file);
    return { path, bytes: (await stat(path)).size, generateSeconds: 0 };
  }
  await mkdir(options.out, { recursive: true });
  const path = resolve(options.out, 'access.log');
  // Registered first so that a Ctrl-C during generation removes the partial file too.
  if (!options.keep) session.defer(() => rm(path, { force: true }));
  const started = performance.now();
  const bytes = await writeAccessLog(path, options.size, session.signal);
  const generateSeconds = (performance.now() - started) / 1000;
  say(
    `wrote ${formatBytes(bytes)} of access log to ${path} in ${formatSeconds(generateSeconds)}` +
      (options.keep ? '' : ' (removed at the end; --keep keeps it)'),
  );
  return { path, bytes, generateSeconds };
}

function approaches(
  session: LabSession,
  { path, bytes }: { path: string; bytes: number },
  needle: string,
  options: BigfileOptions,
  grep: boolean,
): Approach<number>[] {
  const { chunk, workers } = options;
  const list: Approach<number>[] = [
    {
      approach: 'stream',
      label: `one thread, ${formatBytes(chunk)} chunks`,
      run: async () => {
        let count = 0;
        for await (const piece of lineChunks(path, chunk, session.signal))
          count += countOccurrences(piece, needle);
        return count;
      },
    },
    {
      approach: 'readline',
      label: 'one thread, line by line (readline)',
      run: async () => {
        let count = 0;
        const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
        for await (const line of lines) if (line.includes(needle)) count++;
        return count;
      },
    },
    poolApproach(
      session,
      { task: 'count', workers, isolation: 'thread' },
      'sluice',
      `sluice: chunks moved to ${plural(workers, 'thread')}`,
      (stage: CpuTask<CountItem, number>) =>
        flow(lineChunks(path, chunk, session.signal))
          .map((piece) => move<CountItem>({ chunk: piece, needle }))
          .map(stage)
          .reduce((sum, count) => sum + count, 0, { signal: session.signal }),
    ),
    poolApproach(
      session,
      { task: 'count-range', workers, isolation: 'thread' },
      'sluice-ranges',
      `sluice: ${plural(workers, 'thread')} read ranges`,
      (stage: CpuTask<RangeItem, number>) =>
        flow(ranges(bytes, workers * 4).map((range) => ({ ...range, path, needle, chunkBytes: chunk })))
          .map(stage)
          .reduce((sum, count) => sum + count, 0, { signal: session.signal }),
    ),
  ];
  if (grep)
    list.push({
      approach: 'grep',
      label: 'grep -cF (reference)',
      run: () => grepCount(path, needle, session.signal),
    });
  return list;
}

/** `count` ranges of about equal size that tile `bytes` bytes. */
function ranges(bytes: number, count: number): ByteRange[] {
  const step = Math.ceil(bytes / count);
  return Array.from({ length: count }, (_, i) => ({ start: i * step, end: Math.min(bytes, (i + 1) * step) }));
}

/** Lines of `path` containing `needle`, by `grep -cF`; grep exits 1 when it finds none. */
function grepCount(path: string, needle: string, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile('grep', ['-cF', '--', needle, path], { signal }, (error, stdout) => {
      if (error !== null && error.code !== 1) reject(error);
      else resolve(Number(stdout.trim()));
    });
  });
}

/** True when a `grep` command can be run here. */
function hasGrep(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('grep', ['--version'], (error) => resolve(error === null));
  });
}
