/** Type tests for the adaptive options and tune(): checked by `tsc` with the rest of the suite. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adaptive, flow, type LimitReport, type TuneResult, tune } from '../../src/index.js';

test('adaptive options are typed by the stage item', () => {
  const urls = flow(['https://a.example/x']);
  urls.map((url) => url.length, { concurrency: adaptive<string>({ key: (url) => new URL(url).host }) });
  urls.map((url) => url.length, {
    concurrency: { adaptive: true, max: 64, key: (url) => url.toUpperCase() },
  });
  // Never called: these only have to fail to compile.
  const wrong = (): void => {
    // @ts-expect-error the key receives the item: a string has no toFixed
    urls.map((url) => url, { concurrency: adaptive<string>({ key: (url) => url.toFixed() }) });
    // @ts-expect-error 'auto' is not a concurrency
    urls.map((url) => url, { concurrency: 'auto' });
  };
  assert.equal(typeof wrong, 'function');
  const limit: LimitReport | undefined = undefined;
  const sweep: (() => Promise<TuneResult>) | undefined = () => tune((n: number) => n, { items: [1] });
  assert.equal(limit, undefined);
  assert.equal(typeof sweep, 'function');
});
