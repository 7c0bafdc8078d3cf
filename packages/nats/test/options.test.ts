import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jetstream } from '@sluice/nats';

// jetstream() checks its options where they are written; it connects only when a stage opens.
test('jetstream() - bad options throw coded errors naming the option', () => {
  assert.throws(() => jetstream(null as never), {
    code: 'SLUICE_ERR_INVALID_ARG_TYPE',
    message: /jetstream\(options\)/,
  });
  assert.throws(() => jetstream({ maxInFlight: 0 }), {
    code: 'SLUICE_ERR_INVALID_ARG_VALUE',
    message: /maxInFlight/,
  });
  assert.throws(() => jetstream({ ackWaitMs: 10 }), {
    code: 'SLUICE_ERR_INVALID_ARG_VALUE',
    message: /ackWaitMs/,
  });
  assert.throws(() => jetstream({ maxDeliver: 1 }), {
    code: 'SLUICE_ERR_INVALID_ARG_VALUE',
    message: /maxDeliver/,
  });
  assert.throws(() => jetstream({ replicas: '3' as unknown as number }), {
    code: 'SLUICE_ERR_INVALID_ARG_TYPE',
    message: /replicas/,
  });
  assert.throws(() => jetstream({ runId: '' }), { code: 'SLUICE_ERR_INVALID_ARG_TYPE', message: /runId/ });
});
