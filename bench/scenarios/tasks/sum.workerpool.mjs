// workerpool's worker script: registers the same sum under the name the pool calls with exec('sum').
import workerpool from 'workerpool';
import sum from './sum.mjs';

workerpool.worker({ sum });
