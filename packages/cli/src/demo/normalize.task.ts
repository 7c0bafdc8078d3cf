/** The worker side of the demo's normalize stage: see normalize.ts. */
import { defineTask } from 'sluice/task';
import { type Asset, normalize, type RawRecord } from './normalize.js';

export default defineTask<RawRecord, Asset>((record) => normalize(record));
