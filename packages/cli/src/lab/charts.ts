/** Writing the lab's charts: one bar chart per comparison, into the --out folder. */
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { barChart } from '../chart/bar-chart.js';
import { formatSpeedup } from './table.js';

export interface ChartBar {
  label: string;
  value: number;
  /** Speed-up over the baseline, printed beside the bar when given. */
  speedup?: number;
}

/** Writes `<outDir>/<name>.svg` and returns its absolute path. */
export async function writeBarChart(
  outDir: string,
  name: string,
  chart: { title: string; subtitle: string; unit: string; bars: readonly ChartBar[] },
): Promise<string> {
  const path = resolve(outDir, `${name}.svg`);
  await mkdir(outDir, { recursive: true });
  const bars = chart.bars.map(({ label, value, speedup }) =>
    speedup === undefined ? { label, value } : { label, value, note: formatSpeedup(speedup) },
  );
  await writeFile(path, barChart({ title: chart.title, subtitle: chart.subtitle, unit: chart.unit, bars }));
  return path;
}
