// Retention of the embedded log on real files: expired records go in whole strides while appends and consumers go on,
// offsets keep counting, a reopened log starts where retention left it, and an interrupted copy leaves the file whole.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../poll';
import { openEmbeddedLog } from '../embedded';
import type { ConsumedRecord, EventLog, LogConsumer } from '../types';
import { INDEX_STRIDE } from './partition';

const logger = pino({ level: 'silent' });
const dirs: string[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const retentionMs = 1500;
const spec = { name: 'events', partitions: 1, retentionMs };

async function open(dir: string): Promise<EventLog> {
  const log = await openEmbeddedLog({ dir, logger, pollIntervalMs: 50, retentionCheckMs: 100, retentionMinBytes: 0 });
  cleanups.push(() => log.close());
  await log.ensureTopics([spec]);
  return log;
}

const produceRange = async (log: EventLog, from: number, to: number) => {
  for (let id = from; id < to; id += 50) {
    await log.produce(
      'events',
      Array.from({ length: Math.min(50, to - id) }, (_, i) => ({
        key: 'k',
        value: Buffer.from(`record-${id + i}`.padEnd(200, '.')),
      })),
    );
  }
};

async function collect(log: EventLog, groupId: string): Promise<{ records: ConsumedRecord[]; consumer: LogConsumer }> {
  const records: ConsumedRecord[] = [];
  const consumer = await log.consume({
    groupId,
    topics: ['events'],
    maxBatchSize: 40,
    handleBatch: async (batch) => void records.push(...batch.records),
  });
  return { records, consumer };
}

const idOf = (record: ConsumedRecord) => Number(/record-(\d+)/.exec(record.value.toString())?.[1]);
const file = (dir: string) => path.join(dir, 'topics', 'events', 'partition-0.log');

/** The offsets a fresh group reads from the start, once it has read up to `end`. */
async function readAll(log: EventLog, end: number): Promise<number[]> {
  const { records, consumer } = await collect(log, `fresh-${Math.random()}`);
  await waitFor(() => records.at(-1)?.offset === String(end - 1), { what: `records up to ${end - 1}` });
  await consumer.close();
  return records.map((record) => Number(record.offset));
}

describe('embedded log retention', () => {
  it(
    'removes expired strides while producers and a consumer keep going, and keeps every offset after them',
    { timeout: 30_000 },
    async () => {
      const dir = tempDirectory();
      const log = await open(dir);
      const live = await collect(log, 'live');
      await produceRange(log, 0, 1000);
      await waitFor(() => live.records.length === 1000, { what: 'the live consumer to read 1000' });
      const before = statSync(file(dir)).size;

      // The first 1000 expire; new records keep coming while retention copies the rest.
      await new Promise((resolve) => setTimeout(resolve, retentionMs + 100));
      const producing = produceRange(log, 1000, 1400);
      await waitFor(() => statSync(file(dir)).size < before, { timeoutMs: 10_000, what: 'the file to shrink' });
      await producing;
      await produceRange(log, 1400, 1500);

      // The live consumer saw everything once, in order, across the swap.
      await waitFor(() => live.records.length === 1500, { what: 'the live consumer to read 1500' });
      expect(live.records.map(idOf)).toEqual(Array.from({ length: 1500 }, (_, i) => i));
      expect(live.records.map((record) => Number(record.offset))).toEqual(Array.from({ length: 1500 }, (_, i) => i));

      // A fresh group starts at the first record held: a stride boundary, with every later offset, none twice.
      const offsets = await readAll(log, 1500);
      const start = offsets[0] as number;
      expect(start).toBeGreaterThan(0);
      expect(start % INDEX_STRIDE).toBe(0);
      expect(start).toBeLessThanOrEqual(1000);
      expect(offsets).toEqual(Array.from({ length: 1500 - start }, (_, i) => start + i));
      expect((await log.endOffsets('events'))['0']).toBe('1500');
    },
  );

  it(
    'reopens where retention left the file: the same start and end, and new records after them',
    { timeout: 30_000 },
    async () => {
      const dir = tempDirectory();
      let log = await open(dir);
      await produceRange(log, 0, 600);
      await new Promise((resolve) => setTimeout(resolve, retentionMs + 100));
      await produceRange(log, 600, 700);
      const size = statSync(file(dir)).size;
      await waitFor(() => statSync(file(dir)).size < size, { timeoutMs: 10_000, what: 'the file to shrink' });
      const offsets = await readAll(log, 700);
      await log.close();

      // As after a crash in the middle of a copy: the copy is left behind, the file is whole.
      writeFileSync(`${file(dir)}.compact`, 'half a copy');
      log = await open(dir);
      expect(existsSync(`${file(dir)}.compact`)).toBe(false);
      expect((await log.endOffsets('events'))['0']).toBe('700');
      expect(await readAll(log, 700)).toEqual(offsets);
      await produceRange(log, 700, 710);
      const after = await readAll(log, 710);
      expect(after.slice(-10)).toEqual(Array.from({ length: 10 }, (_, i) => 700 + i));
    },
  );

  it('keeps the last record however old, and never touches a topic kept for ever', { timeout: 30_000 }, async () => {
    const dir = tempDirectory();
    const log = await openEmbeddedLog({ dir, logger, pollIntervalMs: 50, retentionCheckMs: 100, retentionMinBytes: 0 });
    cleanups.push(() => log.close());
    await log.ensureTopics([spec, { name: 'links', partitions: 1, keepForever: true, retentionMs }]);
    await produceRange(log, 0, 300);
    await log.produce(
      'links',
      Array.from({ length: 300 }, (_, i) => ({ key: 'links', value: Buffer.from(`link-${i}`) })),
    );
    const links = statSync(path.join(dir, 'topics', 'links', 'partition-0.log')).size;
    await new Promise((resolve) => setTimeout(resolve, retentionMs + 600));
    const offsets = await readAll(log, 300);
    expect(offsets.length).toBeGreaterThan(0);
    expect(offsets.length).toBeLessThanOrEqual(INDEX_STRIDE);
    expect(statSync(path.join(dir, 'topics', 'links', 'partition-0.log')).size).toBe(links);
  });
});

function tempDirectory(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-log-retention-'));
  dirs.push(dir);
  return dir;
}
