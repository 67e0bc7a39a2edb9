// Erasing rows from a table whose partitions are dropped meanwhile (the segments service drops whole passes of
// segment_profiles and segment_diffs as it goes), against real chDB (or CLICKHOUSE_URL): a drop fails the mutation on
// the part it was rewriting (ClickHouse error 341), and the erasure issues it again rather than failing; a mutation
// failing for another reason is not issued again.
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
    // Rounds go on until ClickHouse has failed some mutation on a dropped part (three in four rounds do, here): without
    // such a race the test would prove nothing. Whether one did is read from system.mutations.
    let cancelled = 0;
    for (let round = 0; round < 3 || (cancelled === 0 && round < 30); round++) {
      const first = 1000 + round * 10;
      for (let pass = first; pass < first + 5; pass++)
        await client.command(
          named('test.insertPass', {
            query: `INSERT INTO passes SELECT ${pass}, concat('p', toString(number % 1000)), number FROM numbers(200000)`,
          }),
        );
      const erasing = mutate(client, 'ALTER TABLE passes DELETE WHERE profile_id IN {ids:Array(String)}', {
        ids: erased,
      });
      // Drops begin at a different moment of the mutation each round.
      await new Promise((resolve) => setTimeout(resolve, (round % 4) * 3));
      for (let pass = first; pass < first + 4; pass++)
        await client.command(named('test.dropPass', { query: `ALTER TABLE passes DROP PARTITION ${pass}` }));
      await erasing;
      expect(await count("SELECT count() AS rows FROM passes WHERE profile_id IN ('p1', 'p2', 'p3')")).toBe(0);
      expect(await count(`SELECT count() AS rows FROM passes WHERE pass = ${first + 4}`)).toBe(200000 - 600);
      cancelled = await count(
        "SELECT count() AS rows FROM system.mutations WHERE database = currentDatabase() AND table = 'passes' AND latest_fail_reason LIKE '%Cancelled mutating parts%'",
      );
      await client.command(named('test.emptyPasses', { query: 'TRUNCATE TABLE passes' }));
    }
    expect(cancelled).toBeGreaterThan(0);
  });

  it('gives up at once on a mutation that fails for another reason', async () => {
    const { client } = clickhouse;
    await client.command(
      named('test.createOther', {
        query: 'CREATE TABLE other (profile_id String, value UInt64) ENGINE = MergeTree ORDER BY profile_id',
      }),
    );
    await client.command(named('test.insertOther', { query: "INSERT INTO other VALUES ('p1', 1)" }));
    await expect(
      mutate(client, 'ALTER TABLE other UPDATE value = throwIf(value = 1, {reason:String}) WHERE 1', {
        reason: 'not an erasure',
      }),
    ).rejects.toThrow(/not an erasure/);
    // Issued once: a retry would have queued a second mutation behind the failing one.
    expect(
      await count(
        "SELECT count() AS rows FROM system.mutations WHERE database = currentDatabase() AND table = 'other'",
      ),
    ).toBe(1);
    await client.command(
      named('test.killOther', { query: "KILL MUTATION WHERE database = currentDatabase() AND table = 'other'" }),
    );
  });
});
