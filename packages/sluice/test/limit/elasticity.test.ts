import assert from 'node:assert/strict';
import { test } from 'node:test';
import { elasticity } from '../../src/limit/elasticity.js';

const at = (load: number, rtt: number) => ({ x: Math.log(load), y: Math.log(rtt) });

test('elasticity() - 1 where latency grows with the load (more calls only wait), 0 where it stays flat', () => {
  assert.ok(Math.abs((elasticity([at(100, 20), at(200, 40), at(400, 80)], 0.01) as number) - 1) < 1e-9);
  assert.ok(Math.abs(elasticity([at(100, 20), at(200, 20), at(400, 20)], 0.01) as number) < 1e-9);
});

test('elasticity() - undefined with fewer than three windows or loads spread too little to tell', () => {
  assert.equal(elasticity([at(100, 20), at(200, 40)], 0.01), undefined);
  assert.equal(elasticity([at(100, 20), at(102, 40), at(104, 80)], 0.01), undefined);
});
