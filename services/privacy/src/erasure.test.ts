// Erasing rows from a table whose partitions are dropped meanwhile (the segments service drops whole passes of
// segment_profiles and segment_diffs as it goes), against real chDB (or CLICKHOUSE_URL): a drop cancels the mutation
// (ClickHouse error 341), and the erasure issues it again rather than failing.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, createLogger, named, type ClickHouse } from '@cdp/runtime';
import { mutate } from './erasure';

const chdbPath = mkdtempSync(path.join(os.tmpdir(), 'cdp-erasure-chdb-'));
let clickhouse: ClickHouse;

beforeAll(async () => {
  clickhouse = await createClickHouse(
    {
      url: process.env.CLICKHOUSE_URL ?? null,
      database: `erasure_${randomUUID().replaceAll('-', '')}`,
      chdbPath,
      requireNames: true,
    },
    createLogger({ level: 'silent' }),
  );
  await clickhouse.client.command(
    named('test.createPasses', {
      query: `CREATE TABLE passes (pass UInt64, profile_id String, value UInt64)
        ENGINE = MergeTree PARTITION BY pass ORDER BY profile_id`,
    }),
  );
});
afterAll(async () => {
  await clickhouse?.close();
  rmSync(chdbPath, { recursive: true, force: true });
});

const erased = ['p1', 'p2', 'p3'];
const count = async (query: string): Promise<number> => {
  const result = await clickhouse.client.query(named('test.count', { query, format: 'JSONEachRow' }));
  return Number((await result.json<{ rows: string }>())[0]?.rows);
};

describe('an erasure racing dropped partitions', () => {
  it('deletes the rows of the partitions that remain, in every round', async () => {
    const { client } = clickhouse;
    let cancelled = 0;
    for (let round = 0; round < 8; round++) {
      const first = 1000 + round * 10;
      for (let pass = first; pass < first + 5; pass++)
        await client.command(
          named('test.insertPass', {
            query: `INSERT INTO passes SELECT ${pass}, concat('p', toString(number % 1000)), number FROM numbers(200000)`,
          }),
        );
      // Whether ClickHouse cancels the mutation is seen in system.mutations: counted, so the test shows it raced.
      const erasing = mutate(client, 'ALTER TABLE passes DELETE WHERE profile_id IN {ids:Array(String)}', {
        ids: erased,
      });
      await new Promise((resolve) => setTimeout(resolve, (round % 4) * 3));
      for (let pass = first; pass < first + 4; pass++)
        await client.command(named('test.dropPass', { query: `ALTER TABLE passes DROP PARTITION ${pass}` }));
      await erasing;
      expect(await count("SELECT count() AS rows FROM passes WHERE profile_id IN ('p1', 'p2', 'p3')")).toBe(0);
      expect(await count(`SELECT count() AS rows FROM passes WHERE pass = ${first + 4}`)).toBe(200000 - 600);
      cancelled = await count(
        "SELECT count() AS rows FROM system.mutations WHERE database = currentDatabase() AND latest_fail_reason != ''",
      );
    }
    // Without the race the test would prove nothing: some mutation of the rounds above was cancelled by a drop.
    expect(cancelled).toBeGreaterThan(0);
  });
});
