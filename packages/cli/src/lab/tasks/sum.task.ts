import { defineTask } from 'sluice/task';
import { sumOfSquares } from '../sum-of-squares.js';

export default defineTask((n: number): number => sumOfSquares(n));
