// A store of a test file's own, for tests that call the store's modules without a platform: a fresh database beside
// the platforms' (one chDB data directory per process; or on CLICKHOUSE_URL), migrated, dropped after.
import { createClickHouse, createLogger, migrate, named, type ClickHouse } from '@cdp/runtime';
import { clickhouseMigrationsDir, type SegmentRule } from '@cdp/schemas';
import { compileRule, type Pass } from '@cdp/segments';
import { chdbPath, uniqueName } from './platform';

/** A migrated database named after `prefix`. */
export async function freshStore(prefix: string): Promise<ClickHouse> {
  const logger = createLogger({ level: 'warn' });
  const clickhouse = await createClickHouse(
    { url: process.env.CLICKHOUSE_URL ?? null, database: uniqueName(prefix), chdbPath, requireNames: true },
    logger,
  );
  await migrate(clickhouse.client, clickhouseMigrationsDir, logger);
  return clickhouse;
}

export async function dropStore(clickhouse: ClickHouse | undefined): Promise<void> {
  await clickhouse?.client.command(
    named('test.dropDatabase', { query: `DROP DATABASE IF EXISTS ${clickhouse.database}` }),
  );
  await clickhouse?.close();
}

/** The members of `rule` as the evaluator compiles it at `now`, from a pass's profiles (live data without one). */
export async function rulesMembers(
  clickhouse: ClickHouse,
  rule: SegmentRule,
  now: number,
  pass: Pass | null,
): Promise<string[]> {
  const compiled = compileRule(rule, { now, pass });
  const result = await clickhouse.client.query(
    named('test.readMembers', {
      query: `${compiled.sql} ORDER BY profile_id`,
      query_params: compiled.params,
      format: 'JSONEachRow',
    }),
  );
  return (await result.json<{ profile_id: string }>()).map((row) => row.profile_id);
}
