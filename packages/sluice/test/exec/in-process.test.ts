import { executorConformance } from './conformance.js';

executorConformance({
  name: 'inProcess()',
  factory: new URL('./providers.ts', import.meta.url),
  exportName: 'callingThread',
  crashes: false,
});
