// Behaviour of ClickHouse migrations: statement splitting, file ordering, and applying each file once against real chDB.
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clickhouseMigrationsDir } from '@cdp/schemas';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouse } from './clickhouse';
import { createLogger } from './logger';
import { migrate, readMigrations, splitStatements } from './migrations';
import { named } from './query-names';

const logger = createLogger({ level: 'silent' });
const dirs: string[] = [];
const clickhouses: ClickHouse[] = [];

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

// chDB allows one on-disk data path per process: every test shares it and gets a database of its own.
const chdbPath = tempDir('cdp-migrations-chdb-');

async function openDatabase(): Promise<ClickHouse> {
  const database = `migrations_${randomUUID().replaceAll('-', '')}`;
  const clickhouse = await createClickHouse({ url: null, database, chdbPath, requireNames: true }, logger);
  clickhouses.push(clickhouse);
  return clickhouse;
}

async function tablesOf(clickhouse: ClickHouse): Promise<string[]> {
  const result = await clickhouse.client.query(
    named('test.listTables', {
      query: 'SELECT name FROM system.tables WHERE database = {database:String} ORDER BY name',
      query_params: { database: clickhouse.database },
      format: 'JSONEachRow',
    }),
  );
  return (await result.json<{ name: string }>()).map((row) => row.name);
}

function writeMigrations(dir: string, files: Record<string, string>): void {
  for (const [name, sql] of Object.entries(files)) writeFileSync(path.join(dir, name), sql);
}

afterAll(async () => {
  for (const clickhouse of clickhouses.splice(0)) await clickhouse.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('splitStatements', () => {
  it('drops comment lines, indented ones too', () => {
    const sql = '-- what this file does\nCREATE TABLE a (x UInt8)\n  -- why x is small\nENGINE = Memory;\n';
    expect(splitStatements(sql)).toEqual(['CREATE TABLE a (x UInt8)\nENGINE = Memory']);
  });

  it('splits several statements, each ending with ; at the end of a line', () => {
    const sql = 'CREATE TABLE a (x UInt8) ENGINE = Memory;\n\nCREATE TABLE b\n(\n  y String\n)\nENGINE = Memory;  \n';
    expect(splitStatements(sql)).toEqual([
      'CREATE TABLE a (x UInt8) ENGINE = Memory',
      'CREATE TABLE b\n(\n  y String\n)\nENGINE = Memory',
    ]);
  });

  it('keeps a ; that is not at the end of a line, as inside a string literal', () => {
    const sql = "INSERT INTO a VALUES ('x;y'), ('z');\nSELECT 1;\n";
    expect(splitStatements(sql)).toEqual(["INSERT INTO a VALUES ('x;y'), ('z')", 'SELECT 1']);
  });

  it('keeps a last statement that has no closing ;', () => {
    expect(splitStatements('SELECT 1;\nSELECT 2')).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('gives no statement for a file of comments and blank lines', () => {
    expect(splitStatements('-- nothing yet\n\n   \n-- still nothing\n')).toEqual([]);
  });
});

describe('readMigrations', () => {
  it('orders migrations by version and ignores files not named NNNN_name.sql', async () => {
    const dir = tempDir('cdp-migrations-read-');
    writeMigrations(dir, {
      '0010_late.sql': 'SELECT 10;\n',
      '0002_middle.sql': 'SELECT 2;\n',
      '0001_first.sql': '-- first\nSELECT 1;\nSELECT 11;\n',
      'README.md': 'not a migration',
      '1_short.sql': 'SELECT 0;\n',
    });
    const migrations = await readMigrations(dir);
    expect(migrations.map((migration) => [migration.version, migration.name])).toEqual([
      [1, 'first'],
      [2, 'middle'],
      [10, 'late'],
    ]);
    expect(migrations[0]?.statements).toEqual(['SELECT 1', 'SELECT 11']);
  });

  it('gives files with different content different checksums', async () => {
    const dir = tempDir('cdp-migrations-checksum-');
    writeMigrations(dir, { '0001_a.sql': 'SELECT 1;\n', '0002_b.sql': 'SELECT 2;\n' });
    const [first, second] = await readMigrations(dir);
    expect(first?.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(first?.checksum).not.toBe(second?.checksum);
  });

  it('refuses two files with the same version', async () => {
    const dir = tempDir('cdp-migrations-duplicate-');
    writeMigrations(dir, { '0001_a.sql': 'SELECT 1;\n', '0001_b.sql': 'SELECT 2;\n' });
    await expect(readMigrations(dir)).rejects.toThrow(/two migrations share version 1/);
  });
});

describe('migrate against chDB', () => {
  const alpha = '-- the first table\nCREATE TABLE IF NOT EXISTS alpha (id String) ENGINE = MergeTree ORDER BY id;\n';
  const beta =
    'CREATE TABLE IF NOT EXISTS beta (id String, note String) ENGINE = MergeTree ORDER BY id;\n' +
    "INSERT INTO beta VALUES ('1', 'a;b');\n";

  it('applies every migration once, in order, and records it', async () => {
    const clickhouse = await openDatabase();
    const dir = tempDir('cdp-migrations-apply-');
    writeMigrations(dir, { '0001_alpha.sql': alpha, '0002_beta.sql': beta });

    expect(await migrate(clickhouse.client, dir, logger)).toEqual([1, 2]);
    expect(await tablesOf(clickhouse)).toEqual(['alpha', 'beta', 'schema_migrations', 'schema_migrations_lock']);

    const notes = await clickhouse.client.query(
      named('test.readNotes', { query: 'SELECT note FROM beta', format: 'JSONEachRow' }),
    );
    expect(await notes.json()).toEqual([{ note: 'a;b' }]);
  });

  it('applies nothing the second time', async () => {
    const clickhouse = await openDatabase();
    const dir = tempDir('cdp-migrations-again-');
    writeMigrations(dir, { '0001_alpha.sql': alpha, '0002_beta.sql': beta });

    await migrate(clickhouse.client, dir, logger);
    expect(await migrate(clickhouse.client, dir, logger)).toEqual([]);
    // beta's INSERT ran once: a re-run would have doubled the row.
    const count = await clickhouse.client.query(
      named('test.countRows', { query: 'SELECT count() AS rows FROM beta', format: 'JSONEachRow' }),
    );
    expect(await count.json()).toEqual([{ rows: 1 }]);
  });

  it('applies only a file added after the others ran', async () => {
    const clickhouse = await openDatabase();
    const dir = tempDir('cdp-migrations-added-');
    writeMigrations(dir, { '0001_alpha.sql': alpha, '0002_beta.sql': beta });
    await migrate(clickhouse.client, dir, logger);

    writeMigrations(dir, {
      '0003_gamma.sql': 'CREATE TABLE IF NOT EXISTS gamma (id String) ENGINE = MergeTree ORDER BY id;\n',
    });
    expect(await migrate(clickhouse.client, dir, logger)).toEqual([3]);
    expect(await tablesOf(clickhouse)).toEqual([
      'alpha',
      'beta',
      'gamma',
      'schema_migrations',
      'schema_migrations_lock',
    ]);
  });

  it('does not run an applied migration again after its file was edited', async () => {
    const clickhouse = await openDatabase();
    const dir = tempDir('cdp-migrations-edited-');
    writeMigrations(dir, { '0001_alpha.sql': alpha });
    await migrate(clickhouse.client, dir, logger);

    writeMigrations(dir, {
      '0001_alpha.sql': `${alpha}CREATE TABLE IF NOT EXISTS delta (id String) ENGINE = Memory;\n`,
    });
    expect(await migrate(clickhouse.client, dir, logger)).toEqual([]);
    expect(await tablesOf(clickhouse)).toEqual(['alpha', 'schema_migrations', 'schema_migrations_lock']);
  });

  it('takes an applied checksum its file names as earlier for its own, and warns of one it does not name', async () => {
    const clickhouse = await openDatabase();
    const dir = tempDir('cdp-migrations-earlier-');
    writeMigrations(dir, { '0001_alpha.sql': alpha });
    await migrate(clickhouse.client, dir, logger);
    const [applied] = await readMigrations(dir);
    const warnings = (file: string): Promise<string[]> => {
      const lines: string[] = [];
      writeMigrations(dir, { '0001_alpha.sql': file });
      const recording = createLogger({ level: 'warn', destination: { write: (line: string) => lines.push(line) } });
      return migrate(clickhouse.client, dir, recording).then(() => lines);
    };

    expect(await warnings(`-- earlier checksum: ${applied?.checksum}\n${alpha}`)).toEqual([]);
    expect(await warnings(`-- rewritten\n${alpha}`)).toHaveLength(1);
  });

  it('keeps each database to its own migrations', async () => {
    const first = await openDatabase();
    const second = await openDatabase();
    const dir = tempDir('cdp-migrations-separate-');
    writeMigrations(dir, { '0001_alpha.sql': alpha });

    expect(await migrate(first.client, dir, logger)).toEqual([1]);
    expect(await tablesOf(second)).toEqual([]);
    expect(await migrate(second.client, dir, logger)).toEqual([1]);
  });

  it("applies the platform's migrations, creating events, identities and api_keys", async () => {
    const clickhouse = await openDatabase();
    const folder = fileURLToPath(clickhouseMigrationsDir);
    const expectedVersions = readdirSync(folder)
      .filter((file) => /^\d{4}_.+\.sql$/.test(file))
      .map((file) => Number.parseInt(file.slice(0, 4), 10))
      .sort((a, b) => a - b);

    expect(await migrate(clickhouse.client, clickhouseMigrationsDir, logger)).toEqual(expectedVersions);
    expect(await tablesOf(clickhouse)).toEqual(expect.arrayContaining(['events', 'identities', 'api_keys']));
    expect(await migrate(clickhouse.client, clickhouseMigrationsDir, logger)).toEqual([]);
  });

  it('merges the parts of profile_firsts once they are ten minutes old, whatever their sizes, and no other table', async () => {
    const clickhouse = await openDatabase();
    await migrate(clickhouse.client, clickhouseMigrationsDir, logger);
    const result = await clickhouse.client.query(
      named('test.forceMergeAges', {
        query: `SELECT name, extract(engine_full, 'min_age_to_force_merge_seconds = (\\\\d+)') AS seconds
          FROM system.tables WHERE database = currentDatabase() AND engine_full LIKE '%min_age_to_force_merge_seconds%'
          ORDER BY name`,
        format: 'JSONEachRow',
      }),
    );
    expect(await result.json()).toEqual([{ name: 'profile_firsts', seconds: '600' }]);
  });

  it('fills the profile stats views from events stored before they existed, a duplicate counting once', async () => {
    const clickhouse = await openDatabase();
    const folder = fileURLToPath(clickhouseMigrationsDir);
    const dir = tempDir('cdp-migrations-backfill-');
    const files = readdirSync(folder).filter((file) => /^\d{4}_.+\.sql$/.test(file));
    for (const file of files.filter((name) => name < '0011'))
      copyFileSync(path.join(folder, file), path.join(dir, file));
    await migrate(clickhouse.client, dir, logger);
    const order = {
      profile_id: 'p1',
      type: 'track',
      event: 'Order Completed',
      properties: '{"total":12.5}',
      context: '{"traits":{"plan":"pro"}}',
    };
    const page = { profile_id: 'p1', type: 'page', event: '', properties: '{}', context: '{}' };
    const rows = [
      { ...order, message_id: 'm1', timestamp: '2025-01-01 10:00:00.000' },
      { ...order, message_id: 'm1', timestamp: '2025-01-01 10:00:00.000' },
      { ...page, message_id: 'm2', timestamp: '2025-01-02 10:00:00.000' },
    ].map((row) => ({ ...row, received_at: row.timestamp, traits: '{}', channel: 'web', source: 's' }));
    await clickhouse.client.insert(
      named('test.insertEvents', { table: 'events', values: rows.slice(0, 2), format: 'JSONEachRow' }),
    );
    await clickhouse.client.insert(
      named('test.insertEvents', { table: 'events', values: rows.slice(2), format: 'JSONEachRow' }),
    );

    for (const file of files.filter((name) => name >= '0011'))
      copyFileSync(path.join(folder, file), path.join(dir, file));
    await migrate(clickhouse.client, dir, logger);
    const result = await clickhouse.client.query(
      named('test.readStats', {
        query: `SELECT uniqExactMerge(messages) AS events, length(groupUniqArrayArray(orders)) AS orders, toString(max(last_seen)) AS last_seen
              FROM profile_stats WHERE profile_id = 'p1'`,
        format: 'JSONEachRow',
      }),
    );
    expect(await result.json()).toEqual([{ events: 2, orders: 1, last_seen: '2025-01-02 10:00:00.000' }]);
    const traits = await clickhouse.client.query(
      named('test.readTraits', {
        query: 'SELECT key, argMaxMerge(value) AS latest FROM profile_traits GROUP BY key',
        format: 'JSONEachRow',
      }),
    );
    expect(await traits.json()).toEqual([{ key: 'plan', latest: '"pro"' }]);
  });
});

/** Every table's columns and engine, and every view's query, with the database's name taken out. */
async function schemaOf(clickhouse: ClickHouse): Promise<unknown[]> {
  const columns = await clickhouse.client.query(
    named('test.migrationsQuery1', {
      query: `SELECT table, name, type, default_kind, default_expression FROM system.columns
            WHERE database = {database:String} AND table != 'schema_migrations_lock' ORDER BY table, position`,
      query_params: { database: clickhouse.database },
      format: 'JSONEachRow',
    }),
  );
  const tables = await clickhouse.client.query(
    named('test.migrationsQuery2', {
      query: `SELECT name, engine, replaceAll(engine_full, {database:String}, 'db') AS engine_full, sorting_key,
                   replaceAll(as_select, {database:String}, 'db') AS as_select
            FROM system.tables WHERE database = {database:String} AND name != 'schema_migrations_lock' ORDER BY name`,
      query_params: { database: clickhouse.database },
      format: 'JSONEachRow',
    }),
  );
  return [...(await columns.json()), ...(await tables.json())];
}

async function rowsOf(clickhouse: ClickHouse, query: string): Promise<unknown[]> {
  return (await clickhouse.client.query(named('test.migrationsQuery3', { query, format: 'JSONEachRow' }))).json();
}

/** Rows the resolver and the keys would have written after the migrations, as they write them. */
async function writeRows(clickhouse: ClickHouse): Promise<void> {
  await clickhouse.client.insert(
    named('test.migrationsInsert4', {
      table: 'identities',
      values: [
        { type: 'email', value: 'ada@example.com', profile_id: 'prf_a', version: 3 },
        { type: 'user_id', value: 'ada', profile_id: 'prf_a', version: 7 },
      ],
      format: 'JSONEachRow',
    }),
  );
  await clickhouse.client.insert(
    named('test.migrationsInsert5', {
      table: 'profile_merges',
      values: [{ loser_id: 'prf_b', survivor_id: 'prf_a', version: 7 }],
      format: 'JSONEachRow',
    }),
  );
}

const identityRows = 'SELECT type, value, profile_id, version FROM identities FINAL ORDER BY type, value';
const mergeRows = 'SELECT loser_id, survivor_id, version FROM profile_merges FINAL ORDER BY loser_id';

describe("the platform's migrations run again", () => {
  it('every migration run a second time (their record lost) leaves the same schema and keeps the rows written since', async () => {
    const clickhouse = await openDatabase();
    await migrate(clickhouse.client, clickhouseMigrationsDir, logger);
    await writeRows(clickhouse);
    const schema = await schemaOf(clickhouse);
    const identities = await rowsOf(clickhouse, identityRows);
    const merges = await rowsOf(clickhouse, mergeRows);

    await clickhouse.client.command(named('test.migrationsCommand6', { query: 'TRUNCATE TABLE schema_migrations' }));
    expect((await migrate(clickhouse.client, clickhouseMigrationsDir, logger)).length).toBeGreaterThan(0);

    expect(await schemaOf(clickhouse)).toEqual(schema);
    expect(identities).toHaveLength(2);
    expect(await rowsOf(clickhouse, identityRows)).toEqual(identities);
    expect(await rowsOf(clickhouse, mergeRows)).toEqual(merges);
  });

  it('0010 (identity graph) finishes after a crash after any of its copies or exchanges, keeping the rows, in the schema of a clean run', async () => {
    const folder = fileURLToPath(clickhouseMigrationsDir);
    const clean = await openDatabase();
    await migrate(clean.client, clickhouseMigrationsDir, logger);
    const cleanSchema = await schemaOf(clean);
    const [identityGraph] = (await readMigrations(folder)).filter((migration) => migration.version === 10);
    const statements = identityGraph?.statements ?? [];
    expect(statements.length).toBeGreaterThan(4);

    // Right after each statement that moves rows: the states a crash half-way can leave behind that matter.
    const crashPoints = statements.flatMap((statement, index) =>
      /^(INSERT|EXCHANGE)/.test(statement) ? [index + 1] : [],
    );
    expect(crashPoints).toHaveLength(4);
    for (const crashAt of crashPoints) {
      const clickhouse = await openDatabase();
      const dir = tempDir('cdp-migrations-crash-');
      const files = readdirSync(folder).filter((file) => /^\d{4}_.+\.sql$/.test(file));
      for (const file of files.filter((name) => name < '0010'))
        copyFileSync(path.join(folder, file), path.join(dir, file));
      await migrate(clickhouse.client, dir, logger);
      // Applied once, completely, then written to, as a process that crashed in a later migration would leave it.
      for (const statement of statements)
        await clickhouse.client.command(named('test.migrationsCommand7', { query: statement }));
      await writeRows(clickhouse);
      const identities = await rowsOf(clickhouse, identityRows);
      // Run again from its start, stopped after `crashAt` statements, its record never written.
      for (const statement of statements.slice(0, crashAt))
        await clickhouse.client.command(named('test.migrationsCommand8', { query: statement }));

      for (const file of files) copyFileSync(path.join(folder, file), path.join(dir, file));
      await migrate(clickhouse.client, dir, logger);
      expect({ crashAt, rows: await rowsOf(clickhouse, identityRows) }).toEqual({ crashAt, rows: identities });
      expect(await rowsOf(clickhouse, mergeRows)).toEqual([{ loser_id: 'prf_b', survivor_id: 'prf_a', version: 7 }]);
      expect(await schemaOf(clickhouse)).toEqual(cleanSchema);
    }
  });

  it('0010 leaves rows of the identities shape before it behind, as it always did', async () => {
    const clickhouse = await openDatabase();
    const folder = fileURLToPath(clickhouseMigrationsDir);
    const dir = tempDir('cdp-migrations-before-0010-');
    const files = readdirSync(folder).filter((file) => /^\d{4}_.+\.sql$/.test(file));
    for (const file of files.filter((name) => name < '0010'))
      copyFileSync(path.join(folder, file), path.join(dir, file));
    await migrate(clickhouse.client, dir, logger);
    await clickhouse.client.insert(
      named('test.migrationsInsert9', {
        table: 'identities',
        values: [{ type: 'email', value: 'old@example.com', profile_id: 'prf_old' }],
        format: 'JSONEachRow',
      }),
    );

    for (const file of files) copyFileSync(path.join(folder, file), path.join(dir, file));
    await migrate(clickhouse.client, dir, logger);
    expect(await rowsOf(clickhouse, identityRows)).toEqual([]);
  });
});
