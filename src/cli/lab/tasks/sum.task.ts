import { defineTask } from '../../../exec/task.js';
import { sumOfSquares } from '../sum-of-squares.js';

export default defineTask((n: number): number => sumOfSquares(n));
