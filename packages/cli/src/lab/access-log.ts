/**
 * A synthetic web-server access log in the common log format, written as a stream: one chunk of
 * lines is built, written, and awaited before the next (backpressure), so memory stays flat at
 * any size. The content is a pure function of the line number, so a size always gives the same file.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

/** The users the log's lines belong to; one line in five is anonymous (`-`). */
export const logUsers = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy'];

const paths = [
  '/',
  '/index.html',
  '/api/orders',
  '/api/users',
  '/static/app.js',
  '/static/app.css',
  '/login',
];
const methods = ['GET', 'GET', 'GET', 'POST', 'PUT'];
const statuses = [200, 200, 200, 200, 304, 404, 500];
const chunkBytes = 1 << 20;

/** A fast deterministic generator (mulberry32): the same seed gives the same log. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * Line parts drawn from a few hundred precomputed variants, so that writing the log costs little
 * more than the disk: a line is a head (address and user), a time and a request.
 */
function lineParts(next: () => number): { heads: string[]; requests: string[] } {
  const heads: string[] = [];
  for (let i = 0; i < 1024; i++) {
    const r = next();
    const user = r % 5 === 0 ? '-' : logUsers[(r >>> 3) % logUsers.length];
    heads.push(`10.${(r >>> 8) & 255}.${(r >>> 16) & 255}.${r >>> 24} - ${user} [`);
  }
  const requests: string[] = [];
  for (let i = 0; i < 1024; i++) {
    const r = next();
    const status = statuses[(r >>> 5) % statuses.length];
    requests.push(
      ` +0000] "${methods[r % methods.length]} ${paths[(r >>> 9) % paths.length]}?id=${r & 0xffff} HTTP/1.1" ${status} ${r & 0x3fff}\n`,
    );
  }
  return { heads, requests };
}

/**
 * Writes lines to `path` until the file holds at least `bytes` (it ends with a whole line), and
 * resolves with the bytes written. Stops, leaving a partial file, when `signal` aborts.
 */
export async function writeAccessLog(path: string, bytes: number, signal: AbortSignal): Promise<number> {
  const next = random(0x5eed);
  const { heads, requests } = lineParts(next);
  const out = createWriteStream(path);
  const closed = once(out, 'close');
  let written = 0;
  let line = 0;
  let time = '';
  try {
    while (written < bytes) {
      signal.throwIfAborted();
      let chunk = '';
      while (chunk.length < chunkBytes && written + chunk.length < bytes) {
        // Sixteen requests a second: the clock string changes once per sixteen lines.
        if ((line & 15) === 0) time = clock(line >>> 4);
        const r = next();
        chunk += heads[r & 1023] + time + requests[r >>> 22];
        line++;
      }
      written += chunk.length;
      if (!out.write(chunk)) await once(out, 'drain', { signal });
    }
  } finally {
    out.end();
    await closed;
  }
  return written;
}

/** `23/Nov/2026:hh:mm:ss` for a number of seconds after midnight (wrapping at a day). */
function clock(second: number): string {
  return `23/Nov/2026:${pad((second / 3600) % 24)}:${pad((second / 60) % 60)}:${pad(second % 60)}`;
}
function pad(value: number): string {
  return String(Math.floor(value)).padStart(2, '0');
}
