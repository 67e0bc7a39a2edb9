// Behaviour of the embedded event log against the EventLog contract: ordering, partitioning, commits, retries, groups.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../poll';
import { openEmbeddedLog } from './embedded';
import { consumerReadiness } from './health';
import {
  UnrecoverableBatchError,
  type ConsumedRecord,
  type EventLog,
  type LogConsumer,
  type LogRecord,
  type RecordBatch,
} from './types';

const logger = pino({ level: 'silent' });
const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-embedded-log-'));
  dirs.push(dir);
  return dir;
}

async function open(dir: string, topics = [{ name: 'events', partitions: 4 }]): Promise<EventLog> {
  const log = await openEmbeddedLog({ dir, logger, pollIntervalMs: 200, retryBackoff: { initialMs: 10, maxMs: 50 } });
  cleanups.push(() => log.close());
  await log.ensureTopics(topics);
  return log;
}

/** Consumes into an array; `records` grows as batches are handled. */
async function collect(
  log: EventLog,
  groupId: string,
  topics = ['events'],
): Promise<{ records: ConsumedRecord[]; consumer: LogConsumer }> {
  const records: ConsumedRecord[] = [];
  const consumer = await log.consume({
    groupId,
    topics,
    maxBatchSize: 37,
    handleBatch: async (batch) => void records.push(...batch.records),
  });
  return { records, consumer };
}

const record = (key: string, id: string) => ({ key, value: Buffer.from(id), headers: { messageId: id } });
const idsOf = (records: ConsumedRecord[]): string[] => records.map((r) => r.value.toString());

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('embedded event log', () => {
  it('stops a consumer whose handler fails beyond repair, and reports it stopped to readiness', async () => {
    const log = await open(tempDir());
    const consumer = await log.consume({
      groupId: 'doomed',
      topics: ['events'],
      handleBatch: async () => {
        throw new UnrecoverableBatchError('unreadable');
      },
    });
    const readiness = consumerReadiness(log);
    expect(consumer.state()).toBe('running');
    expect(await readiness()['consumer:doomed']?.()).toBe(true);

    await log.produce('events', [{ key: 'k', value: Buffer.from('x') }]);
    await waitFor(() => consumer.state() === 'stopped', { what: 'the consumer to stop' });
    expect(await readiness()['consumer:doomed']?.()).toBe(false);
    await consumer.close();
    expect(log.consumers()).toEqual([]);
  });

  it(
    'delivers every produced record once, in order per key, across several partitions',
    { timeout: 20_000 },
    async () => {
      const log = await open(tempDir());
      const keys = Array.from({ length: 25 }, (_, i) => `user-${i}`);
      const expected = new Map<string, string[]>(keys.map((key) => [key, []]));
      // Concurrent producers, each owning some keys, so per-key order is defined by each producer's sequence.
      await Promise.all(
        [0, 1, 2, 3, 4].map(async (producer) => {
          const own = keys.filter((_, i) => i % 5 === producer);
          for (let round = 0; round < 40; round++) {
            const batch = own.map((key) => record(key, `${key}#${round}`));
            for (const r of batch) expected.get(r.key)?.push(r.value.toString());
            await log.produce('events', batch);
          }
        }),
      );
      const { records } = await collect(log, 'reader');
      await waitFor(() => records.length >= 1000, { what: '1000 records' });

      expect(records).toHaveLength(1000);
      const byKey = new Map<string, string[]>();
      for (const r of records) byKey.set(r.key as string, [...(byKey.get(r.key as string) ?? []), r.value.toString()]);
      expect(byKey).toEqual(expected);
      expect(new Set(records.map((r) => r.partition)).size).toBeGreaterThan(1);
      for (const partition of new Set(records.map((r) => r.partition))) {
        const offsets = records.filter((r) => r.partition === partition).map((r) => Number(r.offset));
        expect(offsets).toEqual(offsets.map((_, i) => i));
      }
      expect(records[0]?.headers.messageId).toBe(records[0]?.value.toString());
      expect(Math.abs((records[0]?.timestamp ?? 0) - Date.now())).toBeLessThan(60_000);
    },
  );

  it('puts every record of one key on the same partition, also after a reopen', async () => {
    const dir = tempDir();
    const first = await open(dir);
    await first.produce(
      'events',
      Array.from({ length: 30 }, (_, i) => record(`key-${i % 6}`, `a${i}`)),
    );
    await first.close();
    const log = await open(dir);
    await log.produce(
      'events',
      Array.from({ length: 30 }, (_, i) => record(`key-${i % 6}`, `b${i}`)),
    );
    const { records } = await collect(log, 'reader');
    await waitFor(() => records.length >= 60, { what: '60 records' });

    const partitionsByKey = new Map<string, Set<number>>();
    for (const r of records)
      partitionsByKey.set(r.key as string, (partitionsByKey.get(r.key as string) ?? new Set()).add(r.partition));
    expect(partitionsByKey.size).toBe(6);
    for (const partitions of partitionsByKey.values()) expect(partitions.size).toBe(1);
  });

  it(
    'starts a new consumer of a group right after the offsets committed before a close and reopen',
    { timeout: 20_000 },
    async () => {
      const dir = tempDir();
      const first = await open(dir);
      await first.produce(
        'events',
        Array.from({ length: 100 }, (_, i) => record(`k${i % 10}`, `old-${i}`)),
      );
      const before = await collect(first, 'group-a');
      await waitFor(() => before.records.length >= 100, { what: 'first 100 records' });
      await before.consumer.close();
      await first.close();

      const log = await open(dir);
      const fresh = Array.from({ length: 50 }, (_, i) => record(`k${i % 10}`, `new-${i}`));
      await log.produce('events', fresh);
      const after = await collect(log, 'group-a');
      await waitFor(() => after.records.length >= 50, { what: '50 new records' });
      // Old records, if redelivered, would come first on each partition and fill the 50 before the new ones.
      expect(idsOf(after.records).sort()).toEqual(fresh.map((r) => r.value.toString()).sort());
    },
  );

  it(
    'delivers a failed batch again after a back-off and skips none of the records after it',
    { timeout: 20_000 },
    async () => {
      const log = await open(tempDir(), [{ name: 'events', partitions: 1 }]);
      await log.produce(
        'events',
        Array.from({ length: 120 }, (_, i) => record('one-key', `id-${i}`)),
      );
      const delivered: RecordBatch[] = [];
      const handled: ConsumedRecord[] = [];
      let failuresLeft = 2;
      const consumer = await log.consume({
        groupId: 'flaky',
        topics: ['events'],
        maxBatchSize: 50,
        async handleBatch(batch) {
          delivered.push(batch);
          // The second batch (offsets 50..99) fails twice before it goes through.
          if (batch.records[0]?.offset === '50' && failuresLeft-- > 0) throw new Error('store is down');
          handled.push(...batch.records);
        },
      });
      cleanups.push(() => consumer.close());
      await waitFor(() => handled.length >= 120, { what: 'all 120 records handled' });

      expect(delivered.map((batch) => batch.records[0]?.offset)).toEqual(['0', '50', '50', '50', '100']);
      expect(idsOf(handled)).toEqual(Array.from({ length: 120 }, (_, i) => `id-${i}`));
    },
  );

  it(
    'starts a group that committed nothing at its start offsets, reports end offsets, and lets a commit win later',
    { timeout: 20_000 },
    async () => {
      const dir = tempDir();
      const log = await open(dir, [{ name: 'events', partitions: 2 }]);
      await log.produce(
        'events',
        Array.from({ length: 40 }, (_, i) => record(`k${i % 8}`, `m${i}`)),
      );
      const ends = await log.endOffsets('events');
      const everything = await collect(log, 'from-the-beginning');
      await waitFor(() => everything.records.length >= 40, { what: 'all 40 records' });
      const ofPartition = (records: ConsumedRecord[], partition: number) =>
        records.filter((r) => r.partition === partition);
      // The end offsets are counted from what a full read delivers, not from the log's own numbers.
      expect(ends).toEqual({
        0: String(ofPartition(everything.records, 0).length),
        1: String(ofPartition(everything.records, 1).length),
      });
      expect(ofPartition(everything.records, 0).length).toBeGreaterThan(5);

      const batches: RecordBatch[] = [];
      const started = await log.consume({
        groupId: 'restored',
        topics: ['events'],
        startOffsets: { events: { 0: '5' } },
        handleBatch: async (batch) => void batches.push(batch),
      });
      await waitFor(() => batches.flatMap((b) => b.records).length >= 40 - 5, {
        what: 'the records from the start offsets on',
      });
      const seen = batches.flatMap((b) => b.records);
      expect(batches.find((b) => b.partition === 0)?.records[0]?.offset).toBe('5');
      expect(idsOf(ofPartition(seen, 0))).toEqual(idsOf(ofPartition(everything.records, 0).slice(5)));
      expect(idsOf(ofPartition(seen, 1))).toEqual(idsOf(ofPartition(everything.records, 1)));
      await started.close();

      // The group has committed now: a start offset no longer moves it.
      await log.produce('events', [record('k0', 'later')]);
      const resumed = await log.consume({
        groupId: 'restored',
        topics: ['events'],
        startOffsets: { events: { 0: '0', 1: '0' } },
        handleBatch: async (batch) => void batches.push(batch),
      });
      cleanups.push(() => resumed.close());
      await waitFor(() => batches.flatMap((b) => b.records).length >= 36, { what: 'the later record' });
      expect(idsOf(batches.flatMap((b) => b.records).slice(35))).toEqual(['later']);
    },
  );

  it(
    'starts at the end of a partition when the start offset is past it, and refuses one that is not an offset',
    { timeout: 20_000 },
    async () => {
      const log = await open(tempDir(), [{ name: 'events', partitions: 1 }]);
      await log.produce('events', [record('k', 'old')]);
      await expect(
        log.consume({
          groupId: 'bad',
          topics: ['events'],
          startOffsets: { events: { 0: '-1' } },
          handleBatch: async () => {},
        }),
      ).rejects.toThrow(/not an offset/);
      const records: ConsumedRecord[] = [];
      const consumer = await log.consume({
        groupId: 'ahead',
        topics: ['events'],
        startOffsets: { events: { 0: '9' } },
        handleBatch: async (batch) => void records.push(...batch.records),
      });
      cleanups.push(() => consumer.close());
      await log.produce('events', [record('k', 'new')]);
      await waitFor(() => records.length >= 1, { what: 'the record after the end' });
      expect(idsOf(records)).toEqual(['new']);
    },
  );

  it('gives each consumer group every record', { timeout: 20_000 }, async () => {
    const log = await open(tempDir());
    const produced = Array.from({ length: 300 }, (_, i) => record(`user-${i % 17}`, `m${i}`));
    const one = await collect(log, 'group-one');
    await log.produce('events', produced.slice(0, 150));
    const two = await collect(log, 'group-two');
    await log.produce('events', produced.slice(150));
    await waitFor(() => one.records.length >= 300 && two.records.length >= 300, {
      what: 'both groups to see 300 records',
    });

    const all = produced.map((r) => r.value.toString()).sort();
    expect(idsOf(one.records).sort()).toEqual(all);
    expect(idsOf(two.records).sort()).toEqual(all);
    // Each group commits what it read, up to the ends; a group that never consumed has committed nothing.
    const ends = await log.endOffsets('events');
    await waitFor(
      async () => JSON.stringify(await log.committedOffsets('group-one', 'events')) === JSON.stringify(ends),
      {
        what: 'group-one to commit every record',
      },
    );
    expect(await log.committedOffsets('group-none', 'events')).toEqual({});
  });

  it(
    'wakes a waiting consumer on a new record without waiting for the poll interval',
    { timeout: 10_000 },
    async () => {
      const dir = tempDir();
      const log = await openEmbeddedLog({ dir, logger, pollIntervalMs: 60_000 });
      cleanups.push(() => log.close());
      await log.ensureTopics([{ name: 'events', partitions: 2 }]);
      const { records } = await collect(log, 'waiting');
      await log.produce('events', [record('k', 'hello')]);
      await waitFor(() => records.length === 1, { what: 'the record', timeoutMs: 5_000 });
    },
  );

  it('refuses to produce to a topic that was never created', async () => {
    const log = await open(tempDir());
    await expect(log.produce('missing', [record('k', 'v')])).rejects.toThrow(/unknown topic "missing".*ensureTopics/);
    await expect(log.consume({ groupId: 'g', topics: ['missing'], handleBatch: async () => {} })).rejects.toThrow(
      /unknown topic "missing"/,
    );
  });

  it('refuses a record the frame cannot hold and appends none of its call, also where records share headers', async () => {
    const log = await open(tempDir(), [{ name: 'events', partitions: 1 }]);
    const shared = { kind: 'same' };
    const tooMany = Object.fromEntries(Array.from({ length: 0x10000 }, (_, index) => [`h${index}`, '']));
    const refused: Array<[string, LogRecord]> = [
      ['at most', { ...record('k', 'v'), headers: { big: 'x'.repeat(65 * 2 ** 20) } }],
      ['65535 string values', { ...record('k', 'v'), headers: tooMany }],
      ['65535 string values', { ...record('k', 'v'), headers: { bad: 1 as unknown as string } }],
      ['string key', { key: 1 as unknown as string, value: Buffer.from('v') }],
      ['Buffer', { key: 'k', value: 'v' as unknown as Buffer }],
    ];
    for (const [message, bad] of refused) {
      await expect(
        log.produce('events', [
          { ...record('a', '1'), headers: shared },
          bad,
          { ...record('b', '2'), headers: shared },
        ]),
      ).rejects.toThrow(message);
    }
    expect(await log.endOffsets('events')).toEqual({ 0: '0' });
    await log.produce('events', [
      { ...record('a', '1'), headers: shared },
      { ...record('b', '2'), headers: shared },
    ]);
    const { records } = await collect(log, 'after');
    await waitFor(() => records.length === 2, { what: 'both records', timeoutMs: 5_000 });
    expect(records.map((each) => each.headers)).toEqual([shared, shared]);
  });

  it('refuses a second consumer of the same group and topic in one process', async () => {
    const log = await open(tempDir());
    const { consumer } = await collect(log, 'only-one');
    cleanups.push(() => consumer.close());
    await expect(collect(log, 'only-one')).rejects.toThrow(/already has a consumer of events/);
  });

  it('lets a closing consumer finish and commit the batch in hand', { timeout: 20_000 }, async () => {
    const dir = tempDir();
    const log = await open(dir, [{ name: 'events', partitions: 1 }]);
    await log.produce(
      'events',
      Array.from({ length: 10 }, (_, i) => record('k', `r${i}`)),
    );
    let release: () => void = () => {};
    const started: RecordBatch[] = [];
    const consumer = await log.consume({
      groupId: 'slow',
      topics: ['events'],
      handleBatch: (batch) => {
        started.push(batch);
        return new Promise<void>((resolve) => (release = resolve));
      },
    });
    await waitFor(() => started.length === 1, { what: 'the batch to start' });
    const closed = consumer.close();
    release();
    await closed;
    await log.produce('events', [record('k', 'after')]);
    await log.close();

    const reopened = await open(dir, [{ name: 'events', partitions: 1 }]);
    const { records } = await collect(reopened, 'slow');
    await waitFor(() => records.length >= 1, { what: 'the record after the commit' });
    expect(idsOf(records)).toEqual(['after']);
  });

  it('is ready while open and refuses produce and consume after close', async () => {
    const log = await open(tempDir());
    expect(log.kind).toBe('embedded');
    expect(await log.ready()).toBe(true);
    await log.close();
    expect(await log.ready()).toBe(false);
    await expect(log.produce('events', [record('k', 'v')])).rejects.toThrow(/closed/);
    await expect(log.consume({ groupId: 'g', topics: ['events'], handleBatch: async () => {} })).rejects.toThrow(
      /closed/,
    );
  });

  it('keeps the partition count of an existing topic', async () => {
    const dir = tempDir();
    const first = await open(dir, [{ name: 'events', partitions: 2 }]);
    await first.close();
    const log = await open(dir, [{ name: 'events', partitions: 8 }]);
    await log.produce(
      'events',
      Array.from({ length: 40 }, (_, i) => record(`k${i}`, `v${i}`)),
    );
    const { records } = await collect(log, 'reader');
    await waitFor(() => records.length >= 40, { what: '40 records' });
    expect(new Set(records.map((r) => r.partition))).toEqual(new Set([0, 1]));
  });
});
