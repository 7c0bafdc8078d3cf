// Helpers for testing code built on sluice: `sluice/testing`.
export { FakeClock, flushMicrotasks } from './core/fake-clock.js';
