// Preloaded with --import: samples process.memoryUsage() every 200 ms and prints the peaks of the
// main thread's heap and of the process's RSS to stderr at exit.
//   node --import tsx --import ./bench/memory-sampler.mjs --conditions=sluice-source packages/cli/src/bin.ts demo --assets 1000000
let peakHeap = 0;
let peakRss = 0;
const sample = () => {
  const { heapUsed, rss } = process.memoryUsage();
  if (heapUsed > peakHeap) peakHeap = heapUsed;
  if (rss > peakRss) peakRss = rss;
};
setInterval(sample, 200).unref();
process.on('exit', () => {
  sample();
  process.stderr.write(
    `peak heap ${(peakHeap / 1e6).toFixed(0)} MB, peak RSS ${(peakRss / 1e6).toFixed(0)} MB\n`,
  );
});
