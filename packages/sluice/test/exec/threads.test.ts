import { executorConformance } from './conformance.js';

executorConformance({
  name: 'threads()',
  factory: new URL('./providers.ts', import.meta.url),
  exportName: 'threadPool',
  crashes: true,
});
