// Profile change records: one per survivor a batch changed, and produced in chunks a broker takes.
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor, type EventLog, type LogRecord } from '@cdp/runtime';
import { decodeProfileChange, type EventRecord, type ProfileChange } from '@cdp/schemas';
import { profileChangesOf, publishProfileChanges } from './changes';
import type { PendingMerge } from './graph';
import { openScratchLog } from './scratch-log';
import type { ResolvedBatch } from './write';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const resolvedTo = (profileId: string) => ({ event: {} as EventRecord, profileId });
const merge = (loserId: string, survivorId: string): PendingMerge => ({ loserId, survivorId, markWritten: () => {} });
const batchOf = (parts: Partial<ResolvedBatch>): ResolvedBatch => ({
  events: [],
  identities: [],
  merges: [],
  refusals: [],
  version: 7,
  ...parts,
});

describe('profileChangesOf', () => {
  it('gives each survivor one record with the events that landed on it and the profiles merged into it', () => {
    const batch = batchOf({
      events: [resolvedTo('prf_a'), resolvedTo('prf_b'), resolvedTo('prf_a'), resolvedTo('prf_c')],
      merges: [merge('prf_x', 'prf_c'), merge('prf_y', 'prf_c'), merge('prf_x', 'prf_c'), merge('prf_z', 'prf_d')],
    });
    const changes = profileChangesOf(batch, 1000);
    const bySurvivor = Object.fromEntries(changes.map((change) => [change.profileId, change]));
    expect(changes).toHaveLength(4);
    expect(bySurvivor).toEqual({
      prf_a: { profileId: 'prf_a', merged: [], events: 2, at: 1000, version: 7 },
      prf_b: { profileId: 'prf_b', merged: [], events: 1, at: 1000, version: 7 },
      prf_c: { profileId: 'prf_c', merged: ['prf_x', 'prf_y'], events: 1, at: 1000, version: 7 },
      // A survivor reached only through a merge (an event's identifier of a profile it may not join) has no events.
      prf_d: { profileId: 'prf_d', merged: ['prf_z'], events: 0, at: 1000, version: 7 },
    });
  });

  it('gives none for a batch that wrote nothing', () => {
    expect(profileChangesOf(batchOf({}), 1000)).toEqual([]);
  });
});

describe('publishProfileChanges', () => {
  async function openLog(): Promise<{ log: EventLog; calls: LogRecord[][] }> {
    const { log, remove } = await openScratchLog([{ name: 'changes', partitions: 3 }]);
    cleanups.push(remove);
    // The real log, with each produce call's records noted on the way through.
    const calls: LogRecord[][] = [];
    const produce = log.produce.bind(log);
    const noting: EventLog = {
      ...log,
      async produce(topic, records) {
        calls.push(records);
        await produce(topic, records);
      },
    };
    return { log: noting, calls };
  }

  async function readBack(log: EventLog, count: number): Promise<Array<{ key: string | null; change: ProfileChange }>> {
    const read: Array<{ key: string | null; change: ProfileChange }> = [];
    const consumer = await log.consume({
      groupId: 'reader',
      topics: ['changes'],
      handleBatch: async (batch) =>
        void read.push(
          ...batch.records.map((record) => ({ key: record.key, change: decodeProfileChange(record.value) })),
        ),
    });
    cleanups.push(() => consumer.close());
    await waitFor(async () => read.length >= count || undefined, {
      timeoutMs: 20_000,
      what: `${count} changes read back`,
    });
    return read;
  }

  const change = (index: number, merged: string[] = []): ProfileChange => ({
    profileId: `prf_${index}`,
    merged,
    events: 1,
    at: 1000,
    version: 7,
  });

  it('produces at most 5000 records a call, every one keyed by its profile', async () => {
    const { log, calls } = await openLog();
    const changes = Array.from({ length: 12_001 }, (_, index) => change(index));
    await publishProfileChanges(log, 'changes', changes);
    expect(calls.map((records) => records.length)).toEqual([5000, 5000, 2001]);
    const read = await readBack(log, changes.length);
    expect(read.every(({ key, change: { profileId } }) => key === profileId)).toBe(true);
    expect(read.map(({ change: { profileId } }) => profileId).sort()).toEqual(
      changes.map(({ profileId }) => profileId).sort(),
    );
  });

  it('cuts a call short when records with many merged profiles would make it too large for a broker', async () => {
    const { log, calls } = await openLog();
    const merged = Array.from({ length: 100 }, (_, index) => `prf_${'0'.repeat(64)}_${index}`);
    const changes = Array.from({ length: 300 }, (_, index) => change(index, merged));
    await publishProfileChanges(log, 'changes', changes);
    expect(calls.length).toBeGreaterThan(1);
    for (const records of calls)
      expect(records.reduce((bytes, record) => bytes + record.value.length, 0)).toBeLessThan(600 * 1024);
    expect(calls.flat()).toHaveLength(changes.length);
    expect((await readBack(log, changes.length)).map(({ change: read }) => read.merged)).toEqual(
      changes.map(() => merged),
    );
  });
});
