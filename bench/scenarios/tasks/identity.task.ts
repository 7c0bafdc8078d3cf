import { defineTask } from 'sluice';

/** The tiniest task: the item itself, so that only the messaging is measured. */
export default defineTask((n: number): number => n);
