// Ordered, idempotent ClickHouse migrations: NNNN_name.sql files applied once each, recorded in schema_migrations.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { ClickHouseClient } from '@clickhouse/client';
import { named } from './query-names';

export interface Migration {
  version: number;
  name: string;
  statements: string[];
  checksum: string;
}

const fileName = /^(\d{4})_([\w-]+)\.sql$/;

/** Splits a migration file into statements: a statement ends with `;` at the end of a line. */
export function splitStatements(sql: string): string[] {
  const withoutComments = sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(/;\s*$/m)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}

export async function readMigrations(dir: URL | string): Promise<Migration[]> {
  const folder = typeof dir === 'string' ? dir : fileURLToPath(dir);
  const files = (await readdir(folder)).filter((file) => fileName.test(file)).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const [, version, name] = fileName.exec(file) as RegExpExecArray;
    const sql = await readFile(`${folder}/${file}`, 'utf8');
    migrations.push({
      version: Number(version),
      name: name as string,
      statements: splitStatements(sql),
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  const versions = new Set<number>();
  for (const migration of migrations) {
    if (versions.has(migration.version)) throw new Error(`two migrations share version ${migration.version}`);
    versions.add(migration.version);
  }
  return migrations;
}

/** Applies the migrations not yet recorded, in order; returns the versions it applied. */
export async function migrate(client: ClickHouseClient, dir: URL | string, logger: Logger): Promise<number[]> {
  const log = logger.child({ component: 'migrations' });
  await client.command(named('migrations.createLedger', {
    query: `CREATE TABLE IF NOT EXISTS schema_migrations
      (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
      ENGINE = ReplacingMergeTree ORDER BY version`,
  }));
  const result = await client.query(named('migrations.readApplied', { query: 'SELECT version, checksum FROM schema_migrations FINAL', format: 'JSONEachRow' }));
  const applied = new Map((await result.json<{ version: number; checksum: string }>()).map((row) => [Number(row.version), row.checksum]));
  const done: number[] = [];
  for (const migration of await readMigrations(dir)) {
    const checksum = applied.get(migration.version);
    if (checksum !== undefined) {
      if (checksum !== migration.checksum) {
        log.warn({ version: migration.version }, 'an applied migration was edited after it ran; new changes need a new migration');
      }
      continue;
    }
    // A mutation (ALTER … UPDATE / DELETE) is done before the next statement, and before anything reads the table.
    for (const statement of migration.statements) await client.command(named('migrations.apply', { query: statement, clickhouse_settings: { mutations_sync: '2' } }));
    await client.insert(named('migrations.record', {
      table: 'schema_migrations',
      values: [{ version: migration.version, name: migration.name, checksum: migration.checksum }],
      format: 'JSONEachRow',
    }));
    log.info({ version: migration.version, name: migration.name }, 'applied migration');
    done.push(migration.version);
  }
  return done;
}
