/**
 * What the dispatcher moves: a request (a `Job`) is cut into `Piece`s, contiguous runs of its
 * items that travel to a worker as one message each, and put back together as the pieces come
 * back. Every way a piece is cut lives here: to the batch size the sizer wants, into single items
 * (to find which one a worker could not clone or survive), and around one item (to retry it alone
 * and send the others on without it).
 */
import type { TransferListItem } from 'node:worker_threads';
import type { BatchOutcome } from '../executor.js';
import type { RecordColumns } from './record-columns.js';

/** One request: its items, and the outcomes gathered so far from its pieces. */
export interface Job {
  readonly items: unknown[];
  readonly first: number;
  readonly attempt: number;
  readonly timeout: number | undefined;
  readonly signal: AbortSignal | undefined;
  values: unknown[];
  errors: unknown[] | undefined;
  remaining: number;
  settled: boolean;
  transfer: readonly TransferListItem[];
  resolve(outcome: BatchOutcome<unknown>): void;
  reject(error: unknown): void;
  /** Stops watching the request's signal. */
  detach: () => void;
}

/** A contiguous run of a job's items, sent to a worker as one message. */
export interface Piece {
  /** The message's id while a worker holds it; 0 while queued. */
  id: number;
  readonly job: Job;
  readonly offset: number;
  readonly count: number;
  /** Crashes this piece's (single) item has been blamed for. */
  readonly strikes: number;
  /** When it became the head of its worker's queue (processes: when its item started). */
  headSince: number;
  /** The columns its items were sent as, while a worker holds it: its results may echo them. */
  sent: RecordColumns | undefined;
}

/** A queued piece of `count` of `job`'s items from `offset`. */
export function pieceOf(job: Job, offset: number, count: number, strikes = 0): Piece {
  return { id: 0, job, offset, count, strikes, headSince: 0, sent: undefined };
}

/** The piece's first `size` items, and the rest (undefined when it holds no more than `size`). */
export function cut(piece: Piece, size: number): [Piece, Piece | undefined] {
  if (piece.count <= size) return [piece, undefined];
  return [
    { ...piece, count: size },
    pieceOf(piece.job, piece.offset + size, piece.count - size, piece.strikes),
  ];
}

/** One piece per item, in order, none with a strike. */
export function singles(piece: Piece): Piece[] {
  const out: Piece[] = [];
  for (let i = 0; i < piece.count; i++) out.push(pieceOf(piece.job, piece.offset + i, 1));
  return out;
}

/**
 * The piece without its item at `position`: the items before and after it, and, when `strikes` is
 * given, that item alone carrying them (a retry that can be told apart from the rest).
 */
export function around(piece: Piece, position: number, strikes?: number): Piece[] {
  const { job, offset } = piece;
  const parts: Piece[] = [];
  if (position > 0) parts.push(pieceOf(job, offset, position));
  if (strikes !== undefined) parts.push(pieceOf(job, offset + position, 1, strikes));
  const after = piece.count - position - 1;
  if (after > 0) parts.push(pieceOf(job, offset + position + 1, after));
  return parts;
}
