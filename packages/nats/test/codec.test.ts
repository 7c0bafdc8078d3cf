import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fromWire, isSluiceError, toWire } from 'sluice';
import { readResultBody, resultBody, split, workBody } from '../src/codec.js';

const seed = 20261128;

test('split() - pieces hold every encodable value once, in order, each under both limits', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 80 }), fc.constant(undefined), fc.bigInt()), {
        maxLength: 200,
      }),
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 20, max: 400 }),
      (values, maxCount, maxBytes) => {
        const { pieces, failed } = split(values, maxCount, maxBytes, 'item');
        const seen: number[] = [];
        for (const piece of pieces) {
          assert.ok(piece.count <= maxCount);
          assert.ok(Buffer.byteLength(workBody(piece)) - 2 <= maxBytes, 'under the byte limit');
          const decoded = JSON.parse(workBody(piece)) as unknown[];
          for (let i = 0; i < piece.count; i++) {
            seen.push(piece.offset + i);
            assert.deepEqual(decoded[i], values[piece.offset + i] ?? null);
          }
        }
        for (const [at, error] of failed) {
          seen.push(at);
          const code =
            typeof values[at] === 'bigint' ? 'SLUICE_ERR_DATA_CLONE' : 'SLUICE_ERR_PAYLOAD_TOO_LARGE';
          assert.ok(isSluiceError(error, code), `${at}: ${String(error)}`);
        }
        assert.deepEqual(
          seen.sort((a, b) => a - b),
          values.map((_, i) => i),
          'every value is in a piece or failed, once',
        );
      },
    ),
    { seed, numRuns: 300 },
  );
});

test('a result body carries values and errors; a sluice error keeps its class and fields', () => {
  const { pieces } = split([1, undefined, 'three'], 10, 1_000, 'result');
  const error = new (class extends Error {
    override name = 'ParseError';
    code = 'E_PARSE';
    line = 3;
  })('bad line');
  const body = resultBody(pieces[0] as never, [[1, toWire(error)]]);
  const read = readResultBody(body);
  assert.deepEqual(read.values, [1, null, 'three']);
  const [[at, rebuilt]] = read.errors as [[number, Error & { code?: string; line?: number }]];
  assert.equal(at, 1);
  assert.equal(rebuilt.name, 'ParseError');
  assert.equal(rebuilt.code, 'E_PARSE');
  assert.equal(rebuilt.line, 3);
  assert.equal(rebuilt.message, 'bad line');
});

test('fromWire(toWire(e)) - a sluice error comes back as its own class, cause and all', async () => {
  const { TimeoutError } = await import('sluice');
  const original = new TimeoutError('too slow', { stage: 'parse', index: 4, cause: new Error('inner') });
  const rebuilt = fromWire(JSON.parse(JSON.stringify(toWire(original))));
  assert.ok(rebuilt instanceof TimeoutError);
  assert.ok(isSluiceError(rebuilt, 'SLUICE_ERR_TIMEOUT'));
  assert.equal((rebuilt as { index?: number }).index, 4);
  assert.equal((rebuilt.cause as Error).message, 'inner');
});
