import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { countOccurrences, userNeedle } from '../../src/lab/count.js';
import { lineChunks } from '../../src/lab/line-chunks.js';

async function chunksOf(content: string, chunkBytes: number): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-chunks-'));
  try {
    await writeFile(join(dir, 'log'), content);
    const chunks: string[] = [];
    for await (const chunk of lineChunks(join(dir, 'log'), chunkBytes, new AbortController().signal))
      chunks.push(Buffer.from(chunk).toString());
    return chunks;
  } finally {
    await rm(dir, { recursive: true });
  }
}

test('lineChunks() - chunks hold whole lines and together the whole file', async () => {
  const content = Array.from({ length: 500 }, (_, i) => `line ${i} ${'x'.repeat(i % 37)}\n`).join('');
  const chunks = await chunksOf(content, 64);
  assert.ok(chunks.length > 10);
  assert.equal(chunks.join(''), content);
  for (const chunk of chunks) assert.ok(chunk.endsWith('\n'), JSON.stringify(chunk));
});

test('lineChunks() - a line longer than a chunk stays whole', async () => {
  const content = `short\n${'y'.repeat(300)}\nend\n`;
  const chunks = await chunksOf(content, 16);
  assert.equal(chunks.join(''), content);
  assert.ok(chunks.some((chunk) => chunk.includes('y'.repeat(300))));
});

test('lineChunks() - a last line without a newline is kept', async () => {
  assert.deepEqual(await chunksOf('a\nb', 1024), ['a\n', 'b']);
});

test('lineChunks() - each chunk has an ArrayBuffer of its own, so moving one detaches no other', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-chunks-'));
  try {
    await writeFile(join(dir, 'log'), 'one\ntwo\nthree\nfour\n');
    const buffers = new Set<ArrayBufferLike>();
    for await (const chunk of lineChunks(join(dir, 'log'), 8, new AbortController().signal))
      buffers.add(chunk.buffer);
    assert.ok(buffers.size > 1);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('countOccurrences() - counts the lines of one user, not of a user whose name contains it', () => {
  const log = Buffer.from(
    '10.0.0.1 - alice [23/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1\n' +
      '10.0.0.2 - malice [23/Nov/2026:00:00:01 +0000] "GET / HTTP/1.1" 200 1\n' +
      '10.0.0.3 - alice [23/Nov/2026:00:00:02 +0000] "GET /alice HTTP/1.1" 200 1\n',
  );
  assert.equal(countOccurrences(new Uint8Array(log), userNeedle('alice')), 2);
});

test('lineChunks() - ranges that tile a file read each line once, whatever their edges cut', async () => {
  const content = Array.from({ length: 60 }, (_, i) => `${i} ${'z'.repeat(i % 13)}\n`).join('');
  const dir = await mkdtemp(join(tmpdir(), 'sluice-chunks-'));
  try {
    const path = join(dir, 'log');
    await writeFile(path, content);
    for (const step of [1, 7, 50, content.length]) {
      let read = '';
      for (let start = 0; start < content.length; start += step) {
        const range = { start, end: Math.min(content.length, start + step) };
        for await (const chunk of lineChunks(path, 32, new AbortController().signal, range))
          read += Buffer.from(chunk).toString();
      }
      assert.equal(read, content, `ranges of ${step} bytes`);
    }
  } finally {
    await rm(dir, { recursive: true });
  }
});
