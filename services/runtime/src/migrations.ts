// Ordered, idempotent ClickHouse migrations: NNNN_name.sql files applied once each, recorded in schema_migrations.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { ClickHouseClient } from '@clickhouse/client';
import { clusterReplicas, everyReplica, existsOnServer, onCluster, statementsFor } from './cluster';
import { acquireMigrationLock, type MigrationLockOptions } from './migration-lock';
import { named } from './query-names';

export interface Migration {
  version: number;
  name: string;
  statements: string[];
  checksum: string;
  /**
   * Checksums of earlier texts of the file, named in it by `-- earlier checksum: <sha256>` lines: an installation
   * that applied one of those applied this migration, as a fresh one does now.
   */
  earlierChecksums: string[];
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
      earlierChecksums: [...sql.matchAll(/^-- earlier checksum: ([0-9a-f]{64})\s*$/gm)].map(
        (match) => match[1] as string,
      ),
    });
  }
  const versions = new Set<number>();
  for (const migration of migrations) {
    if (versions.has(migration.version)) throw new Error(`two migrations share version ${migration.version}`);
    versions.add(migration.version);
  }
  return migrations;
}

export interface MigrateOptions extends Omit<MigrationLockOptions, 'replicas'> {
  /**
   * A cluster of the server's `remote_servers` (CDP_CLICKHOUSE_CLUSTER): every statement runs ON CLUSTER on it and
   * every table is replicated (cluster.ts). Unset, the statements run as their files state them.
   */
  cluster?: string;
}

/** The ledger of applied migrations. */
export const ledgerTable = `CREATE TABLE IF NOT EXISTS schema_migrations
      (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
      ENGINE = ReplacingMergeTree ORDER BY version`;

async function appliedMigrations(client: ClickHouseClient): Promise<Map<number, string>> {
  const result = await client.query(
    named('migrations.readApplied', {
      query: 'SELECT version, checksum FROM schema_migrations FINAL',
      format: 'JSONEachRow',
    }),
  );
  return new Map(
    (await result.json<{ version: number; checksum: string }>()).map((row) => [Number(row.version), row.checksum]),
  );
}

/**
 * Applies the migrations not yet recorded, in order; returns the versions it applied. Processes sharing one database
 * apply them one at a time (migration-lock.ts): the others wait, then find them applied.
 */
export async function migrate(
  client: ClickHouseClient,
  dir: URL | string,
  logger: Logger,
  options: MigrateOptions = {},
): Promise<number[]> {
  const log = logger.child({ component: 'migrations' });
  const { cluster, ...lockOptions } = options;
  // On a cluster, the records and lock claims every process reads are acknowledged once every replica holds them.
  const replicas = cluster === undefined ? undefined : await clusterReplicas(client, cluster);
  if (cluster === undefined) {
    await client.command(named('migrations.createLedger', { query: ledgerTable }));
  } else if (!(await existsOnServer(client, 'table', 'schema_migrations'))) {
    await client.command(named('migrations.createLedger', { query: onCluster(ledgerTable, cluster) }));
  }
  const migrations = await readMigrations(dir);
  const pending = (applied: Map<number, string>): Migration[] =>
    migrations.filter((migration) => !applied.has(migration.version));
  const appliedBefore = await appliedMigrations(client);
  warnOfEdits(migrations, appliedBefore, log);
  // Every start of every process comes here: when nothing is pending, no lock is needed.
  if (pending(appliedBefore).length === 0) return [];

  const lock = await acquireMigrationLock(client, log, { ...lockOptions, cluster, replicas });
  // A backfill (INSERT … SELECT) must reach the tables and views even when a block equals one inserted before, which a
  // replicated table would otherwise drop as a retry.
  const applySettings = cluster === undefined ? {} : { insert_deduplicate: 0 as const };
  const done: number[] = [];
  try {
    // Read again under the lock: the process that held it before may have applied some or all of them.
    for (const migration of pending(await appliedMigrations(client))) {
      await lock.assertHeld();
      // A mutation (ALTER … UPDATE / DELETE) is done before the next statement, and before anything reads the table.
      for (const statement of statementsFor(migration.statements, cluster))
        await client.command(
          named('migrations.apply', {
            query: statement,
            clickhouse_settings: { mutations_sync: '2', ...applySettings },
          }),
        );
      await client.insert(
        named('migrations.record', {
          table: 'schema_migrations',
          values: [{ version: migration.version, name: migration.name, checksum: migration.checksum }],
          format: 'JSONEachRow',
          ...(replicas === undefined ? {} : { clickhouse_settings: everyReplica(replicas) }),
        }),
      );
      log.info({ version: migration.version, name: migration.name }, 'applied migration');
      done.push(migration.version);
    }
  } finally {
    await lock.release();
  }
  return done;
}

function warnOfEdits(migrations: Migration[], applied: Map<number, string>, log: Logger): void {
  for (const migration of migrations) {
    const checksum = applied.get(migration.version);
    if (checksum === undefined || checksum === migration.checksum || migration.earlierChecksums.includes(checksum))
      continue;
    log.warn(
      { version: migration.version },
      'an applied migration was edited after it ran; new changes need a new migration',
    );
  }
}
