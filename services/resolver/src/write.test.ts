// The resolver's writes against real chDB: batches that arrive together share one insert per table, a batch that
// cannot be written fails alone, and an identifier named by two batches keeps the row of the later graph version.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, migrate, named, type ClickHouse, type ClickHouseClient } from '@cdp/runtime';
import { clickhouseMigrationsDir, type EventRecord } from '@cdp/schemas';
import { groupCommit, type ResolvedBatch } from './write';

const logger = pino({ level: 'silent' });
const chdbPath = mkdtempSync(path.join(os.tmpdir(), 'cdp-resolver-write-chdb-'));
let clickhouse: ClickHouse;

beforeAll(async () => {
  clickhouse = await createClickHouse(
    { url: null, database: `resolver_write_${randomUUID().replaceAll('-', '')}`, chdbPath, requireNames: true },
    logger,
  );
  await migrate(clickhouse.client, clickhouseMigrationsDir, logger);
}, 120_000);

afterAll(async () => {
  // The last case closes the store itself.
  await clickhouse?.close().catch(() => undefined);
  rmSync(chdbPath, { recursive: true, force: true });
});

const at = Date.UTC(2026, 5, 1, 9, 0, 0);

function eventOf(messageId: string, userId: string, timestamp = at): EventRecord {
  return {
    messageId,
    type: 'track',
    userId,
    anonymousId: null,
    event: 'Order Completed',
    name: null,
    groupId: null,
    previousId: null,
    timestamp,
    originalTimestamp: null,
    sentAt: null,
    receivedAt: at,
    channel: 'web',
    source: 'test',
    properties: '{"revenue":10}',
    traits: '{}',
    context: '{}',
  };
}

/** A batch of `size` events of one customer, with its userId resolved to `profileId` at graph `version`. */
function batchOf(name: string, size: number, options: { version?: number; timestamp?: number } = {}): ResolvedBatch {
  const profileId = `prf_${name}`;
  return {
    events: Array.from({ length: size }, (_, index) => ({
      event: eventOf(`${name}-${index}`, name, options.timestamp),
      profileId,
    })),
    identities: [{ identifier: { type: 'user_id', value: name }, profileId }],
    merges: [],
    refusals: [],
    version: options.version ?? 1,
  };
}

/** The client, counting the events inserts that pass through it. */
function counting(client: ClickHouseClient): { client: ClickHouseClient; eventInserts: () => number } {
  let inserts = 0;
  const counted = new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'insert') {
        return (params: Parameters<ClickHouseClient['insert']>[0]) => {
          if (params.table === 'events') inserts += 1;
          return target.insert(params);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { client: counted, eventInserts: () => inserts };
}

async function storedMessageIds(prefix: string): Promise<string[]> {
  const result = await clickhouse.client.query(
    named('test.storedMessageIds', {
      query: 'SELECT DISTINCT message_id FROM events WHERE startsWith(message_id, {prefix:String}) ORDER BY message_id',
      query_params: { prefix },
      format: 'JSONEachRow',
    }),
  );
  return (await result.json<{ message_id: string }>()).map((row) => row.message_id);
}

describe('groupCommit', () => {
  it('writes the batches that arrive while a write is in flight in one insert, each answered with its own count', async () => {
    const { client, eventInserts } = counting(clickhouse.client);
    const write = groupCommit(client);
    const batches = ['gc-a', 'gc-b', 'gc-c', 'gc-d', 'gc-e', 'gc-f'].map((name, index) => batchOf(name, index + 1));
    // The first finds no write in flight and goes alone; the five that arrive meanwhile go together.
    const counts = await Promise.all(batches.map(write));
    expect(counts).toEqual([1, 2, 3, 4, 5, 6]);
    expect(eventInserts()).toBe(2);
    expect(await storedMessageIds('gc-')).toHaveLength(21);

    // An idle writer writes a lone batch at once.
    expect(await write(batchOf('gc-g', 2))).toBe(2);
    expect(eventInserts()).toBe(3);
  });

  it('writes each batch of a joint write that failed on its own, so only the one that cannot be written fails', async () => {
    const write = groupCommit(clickhouse.client);
    // ClickHouse refuses a DateTime64 of year 10000 (written "+010000-…"), as it would refuse any row it cannot parse.
    const unwritable = batchOf('fail-bad', 2, { timestamp: Date.UTC(10_000, 0, 1) });
    const outcomes = await Promise.allSettled([
      write(batchOf('fail-first', 1)),
      write(batchOf('fail-good1', 2)),
      write(unwritable),
      write(batchOf('fail-good2', 3)),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : null))).toEqual([1, 2, null, 3]);
    const stored = await storedMessageIds('fail-');
    expect(stored.filter((id) => id.startsWith('fail-bad'))).toEqual([]);
    expect(stored).toHaveLength(6);

    // The writer goes on after a failure.
    expect(await write(batchOf('fail-after', 1))).toBe(1);
  });

  it('keeps, for an identifier two batches of one write name, the row of the later graph version', async () => {
    const write = groupCommit(clickhouse.client);
    const later = batchOf('ver-x', 1, { version: 7 });
    const earlier = { ...batchOf('ver-x', 1, { version: 5 }), identities: [] as ResolvedBatch['identities'] };
    earlier.identities = [{ identifier: { type: 'user_id', value: 'ver-x' }, profileId: 'prf_ver_old' }];
    earlier.events = [{ event: eventOf('ver-x-earlier', 'ver-x'), profileId: 'prf_ver_old' }];
    // A lone first batch keeps the writer busy, so the later version and then the earlier one go in one write.
    await Promise.all([write(batchOf('ver-first', 1)), write(later), write(earlier)]);
    const result = await clickhouse.client.query(
      named('test.identityRows', {
        query: "SELECT profile_id, version FROM identities WHERE type = 'user_id' AND value = 'ver-x'",
        format: 'JSONEachRow',
      }),
    );
    expect(await result.json()).toEqual([{ profile_id: 'prf_ver-x', version: 7 }]);
  });

  // Last: it closes the store.
  it('fails every batch of a joint write at once when the store cannot answer, without writing each again', async () => {
    const { client, eventInserts } = counting(clickhouse.client);
    const write = groupCommit(client);
    await clickhouse.close();
    const outcomes = await Promise.allSettled([
      write(batchOf('closed-a', 1)),
      write(batchOf('closed-b', 1)),
      write(batchOf('closed-c', 1)),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
    // The first alone, then the other two together: no third and fourth insert of each written alone.
    expect(eventInserts()).toBe(2);
  });
});
