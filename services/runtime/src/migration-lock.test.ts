// Migrations from several processes at once, against real chDB: one applies, the others wait; a dead holder is taken over.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouse } from './clickhouse';
import { createLogger } from './logger';
import { lockTable, ensureLockTable } from './migration-lock';
import { migrate } from './migrations';
import { named } from './query-names';

const dirs: string[] = [];
const clickhouses: ClickHouse[] = [];

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

// chDB allows one on-disk data path per process: a second "process" is a second connection to the same database.
const chdbPath = tempDir('cdp-migration-lock-chdb-');

async function connect(database: string): Promise<ClickHouse> {
  const clickhouse = await createClickHouse({ url: null, database, chdbPath }, createLogger({ level: 'silent' }));
  clickhouses.push(clickhouse);
  return clickhouse;
}

/** A logger whose lines the test reads back. */
function recordingLogger(): { logger: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>> } {
  const written: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => written.push(line) } });
  return { logger, lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

/** Migrations whose second statement counts how often it ran: a second run would add a second row. */
function countingMigrations(): string {
  const dir = tempDir('cdp-migration-lock-files-');
  writeFileSync(
    path.join(dir, '0001_runs.sql'),
    'CREATE TABLE IF NOT EXISTS runs (migration UInt32) ENGINE = MergeTree ORDER BY migration;\nINSERT INTO runs VALUES (1);\n',
  );
  writeFileSync(path.join(dir, '0002_more.sql'), 'INSERT INTO runs VALUES (2);\n');
  return dir;
}

async function runsOf(clickhouse: ClickHouse): Promise<Array<{ migration: number; times: number }>> {
  const result = await clickhouse.client.query(
    named('test.migrationLockQuery1', {
      query: 'SELECT migration, toUInt32(count()) AS times FROM runs GROUP BY migration ORDER BY migration',
      format: 'JSONEachRow',
    }),
  );
  return result.json();
}

/** A claim of a process that is not this one, live for `ms` more (by ClickHouse's clock). */
async function claimAs(clickhouse: ClickHouse, owner: string, ms: number): Promise<void> {
  await ensureLockTable(clickhouse.client);
  await clickhouse.client.command(
    named('test.migrationLockCommand2', {
      query: `INSERT INTO ${lockTable} (owner, claimed_at, expires_at) SELECT {owner:String}, now64(3) - toIntervalMillisecond(1), now64(3) + toIntervalMillisecond({ms:UInt32})`,
      query_params: { owner, ms },
    }),
  );
}

afterAll(async () => {
  for (const clickhouse of clickhouses.splice(0)) await clickhouse.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('migrations from two processes at once', () => {
  it('applies each migration once: one process applies them, the other waits and then finds them applied', async () => {
    const database = `lock_${randomUUID().replaceAll('-', '')}`;
    const first = await connect(database);
    const second = await connect(database);
    const dir = countingMigrations();
    const firstLog = recordingLogger();
    const secondLog = recordingLogger();

    const results = await Promise.all([
      migrate(first.client, dir, firstLog.logger),
      migrate(second.client, dir, secondLog.logger),
    ]);

    expect(results.map((versions) => versions.join(',')).sort()).toEqual(['', '1,2']);
    expect(await runsOf(first)).toEqual([
      { migration: 1, times: 1 },
      { migration: 2, times: 1 },
    ]);
    const waiter = results[0]?.length === 0 ? firstLog : secondLog;
    expect(
      waiter.lines().some((line) => line.msg === 'waiting for another process to finish applying migrations'),
    ).toBe(true);
  });

  it('takes over the lock of a process that died holding it once its claim expires', async () => {
    const clickhouse = await connect(`lock_${randomUUID().replaceAll('-', '')}`);
    await claimAs(clickhouse, 'dead-host/4242/gone', 1_500);
    const { logger, lines } = recordingLogger();

    expect(await migrate(clickhouse.client, countingMigrations(), logger)).toEqual([1, 2]);
    expect(await runsOf(clickhouse)).toEqual([
      { migration: 1, times: 1 },
      { migration: 2, times: 1 },
    ]);
    const waiting = lines().find((line) => line.msg === 'waiting for another process to finish applying migrations');
    expect(waiting?.holder).toBe('dead-host/4242/gone');
  });

  it('gives up with an error naming the holder when the wait is longer than allowed, and applies nothing', async () => {
    const clickhouse = await connect(`lock_${randomUUID().replaceAll('-', '')}`);
    await claimAs(clickhouse, 'busy-host/7/migrating', 600_000);

    await expect(
      migrate(clickhouse.client, countingMigrations(), createLogger({ level: 'silent' }), { waitMs: 1_000 }),
    ).rejects.toThrow(/gave up after 1 s waiting for busy-host\/7\/migrating, which holds the migration lock/);
    const tables = await clickhouse.client.query(
      named('test.migrationLockQuery3', {
        query: "SELECT name FROM system.tables WHERE database = currentDatabase() AND name = 'runs'",
        format: 'JSONEachRow',
      }),
    );
    expect(await tables.json()).toEqual([]);
  });

  it('leaves the lock free after migrating, so the next process does not wait', async () => {
    const database = `lock_${randomUUID().replaceAll('-', '')}`;
    const first = await connect(database);
    const dir = countingMigrations();
    await migrate(first.client, dir, createLogger({ level: 'silent' }));

    writeFileSync(path.join(dir, '0003_last.sql'), 'INSERT INTO runs VALUES (3);\n');
    const second = await connect(database);
    expect(await migrate(second.client, dir, createLogger({ level: 'silent' }), { waitMs: 1 })).toEqual([3]);
  });
});
