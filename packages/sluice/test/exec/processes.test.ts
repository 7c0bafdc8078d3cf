import { executorConformance } from './conformance.js';

executorConformance({
  name: 'processes()',
  factory: new URL('./providers.ts', import.meta.url),
  exportName: 'processPool',
  crashes: true,
});
