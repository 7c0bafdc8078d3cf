/**
 * The end every one-contender-per-process scenario shares: runs the contender named on the
 * command line, checks it finished every item, and prints one JSON line:
 * { contender, items, seconds, itemsPerSecond, cpuSeconds, pageFaults, peakRssMb }.
 */
export async function timeContender(
  contenders: Record<string, () => Promise<number>>,
  contender: string,
  items: number,
): Promise<void> {
  const run = contenders[contender];
  if (run === undefined)
    throw new Error(`unknown contender ${contender}; one of ${Object.keys(contenders).join(', ')}`);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const faultsBefore = process.resourceUsage().minorPageFault;
  const count = await run();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  // Fresh memory's first write is dear on the project's machine (`npm run bench -- machine`): the
  // pages a contender touched for the first time say what of its time that was.
  const pageFaults = process.resourceUsage().minorPageFault - faultsBefore;
  if (count !== items) throw new Error(`${contender} finished ${count} of ${items} items`);
  // CPU time is steadier than wall time on a shared machine: another process's load does not count.
  printResult(contender, items, seconds, { cpuSeconds: (cpu.user + cpu.system) / 1e6, pageFaults });
}

/** The scenario's one JSON line: { contender, items, seconds, itemsPerSecond, ...extra, peakRssMb }. */
export function printResult(
  contender: string,
  items: number,
  seconds: number,
  extra: Record<string, number> = {},
): void {
  console.log(
    JSON.stringify({
      contender,
      items,
      seconds,
      itemsPerSecond: items / seconds,
      ...extra,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    }),
  );
}
