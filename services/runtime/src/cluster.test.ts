// Placing migrations on a ClickHouse cluster: every shipped migration file, and the constructs the rewriter refuses.
// chDB runs no ON CLUSTER statement, so these check the SQL text; a real cluster runs it.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clickhouseMigrationsDir } from '@cdp/schemas';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse } from './clickhouse';
import {
  ClusterRewriteError,
  clusterReplicas,
  clusterSettleMs,
  everyReplica,
  existsOnServer,
  onCluster,
  quorumTimeoutMs,
  statementsFor,
} from './cluster';
import { lockTableDefinition } from './migration-lock';
import { createLogger } from './logger';
import { ledgerTable, migrate, readMigrations, splitStatements } from './migrations';

const cluster = 'cdp_cluster';
const clause = ` ON CLUSTER '${cluster}'`;
const migrations = await readMigrations(clickhouseMigrationsDir);
const files = migrations.map((migration) => ({
  file: `${String(migration.version).padStart(4, '0')}_${migration.name}.sql`,
  statements: migration.statements,
}));
const ddl = /^(?:CREATE|ALTER|DROP|TRUNCATE|EXCHANGE)\s/i;
const mergeTreeEngine = /\bENGINE\s*=\s*(\w*MergeTree)\b/gi;

/** The statement with what the rewriter adds taken out again. */
function undo(statement: string): string {
  return statement.replace(clause, '').replace(/\bENGINE(\s*=\s*)Replicated/gi, 'ENGINE$1');
}

describe('onCluster over every migration file', () => {
  it('reads every file, so the checks below cover all of them', () => {
    expect(files.length).toBeGreaterThanOrEqual(23);
    expect(files.map((entry) => entry.file)).toContain('0001_events.sql');
  });

  it.each(files)('$file: unchanged without a cluster, byte for byte', ({ file, statements }) => {
    const text = readFileSync(new URL(file, clickhouseMigrationsDir), 'utf8');
    expect(statementsFor(statements, undefined)).toEqual(splitStatements(text));
    expect(statementsFor(statements, undefined)).toBe(statements);
  });

  it.each(files)(
    '$file: every DDL statement ON CLUSTER, every MergeTree replicated, nothing else changed',
    ({ statements }) => {
      const placed = statementsFor(statements, cluster);
      expect(placed).toHaveLength(statements.length);
      placed.forEach((statement, index) => {
        const original = statements[index] as string;
        expect(undo(statement)).toBe(original);
        if (ddl.test(original)) expect(statement.split(clause)).toHaveLength(2);
        else {
          expect(original).toMatch(/^INSERT\s+INTO\s/i);
          expect(statement).toBe(original);
        }
        const engines = [...statement.matchAll(mergeTreeEngine)].map((match) => match[1]);
        expect(engines).toHaveLength([...original.matchAll(mergeTreeEngine)].length);
        for (const engine of engines) expect(engine).toMatch(/^Replicated\w*MergeTree$/);
      });
    },
  );
});

describe('onCluster statement by statement', () => {
  it('places ON CLUSTER after the object name, where ClickHouse reads it', () => {
    expect(
      onCluster(
        'CREATE TABLE IF NOT EXISTS events\n(id String)\nENGINE = ReplacingMergeTree(inserted_at)\nORDER BY id',
        cluster,
      ),
    ).toBe(
      `CREATE TABLE IF NOT EXISTS events${clause}\n(id String)\nENGINE = ReplicatedReplacingMergeTree(inserted_at)\nORDER BY id`,
    );
    expect(onCluster('CREATE MATERIALIZED VIEW IF NOT EXISTS a_mv TO a AS\nSELECT x FROM b', cluster)).toBe(
      `CREATE MATERIALIZED VIEW IF NOT EXISTS a_mv${clause} TO a AS\nSELECT x FROM b`,
    );
    expect(onCluster('CREATE VIEW v AS SELECT 1', cluster)).toBe(`CREATE VIEW v${clause} AS SELECT 1`);
    expect(onCluster('ALTER TABLE api_keys UPDATE x = 1 WHERE 1', cluster)).toBe(
      `ALTER TABLE api_keys${clause} UPDATE x = 1 WHERE 1`,
    );
    expect(onCluster('DROP VIEW IF EXISTS v', cluster)).toBe(`DROP VIEW IF EXISTS v${clause}`);
    expect(onCluster('drop table `odd name`', cluster)).toBe(`drop table \`odd name\`${clause}`);
    expect(onCluster('TRUNCATE TABLE IF EXISTS cdp.t', cluster)).toBe(`TRUNCATE TABLE IF EXISTS cdp.t${clause}`);
    expect(onCluster('EXCHANGE TABLES a AND a_0010', cluster)).toBe(`EXCHANGE TABLES a AND a_0010${clause}`);
    expect(onCluster('INSERT INTO a SELECT * FROM a', cluster)).toBe('INSERT INTO a SELECT * FROM a');
  });

  it.each([
    ['MergeTree', 'ReplicatedMergeTree'],
    ['ReplacingMergeTree(version)', 'ReplicatedReplacingMergeTree(version)'],
    ['AggregatingMergeTree', 'ReplicatedAggregatingMergeTree'],
    ['SummingMergeTree((a, b))', 'ReplicatedSummingMergeTree((a, b))'],
    ['CollapsingMergeTree(sign)', 'ReplicatedCollapsingMergeTree(sign)'],
    ['VersionedCollapsingMergeTree(sign, version)', 'ReplicatedVersionedCollapsingMergeTree(sign, version)'],
  ])('replicates ENGINE = %s, keeping its arguments', (engine, replicated) => {
    expect(onCluster(`CREATE TABLE t (x UInt8) ENGINE = ${engine} ORDER BY x`, cluster)).toBe(
      `CREATE TABLE t${clause} (x UInt8) ENGINE = ${replicated} ORDER BY x`,
    );
  });

  it('takes a macro as the cluster, and refuses a name that would break out of its quotes', () => {
    expect(onCluster('DROP TABLE t', '{cluster}')).toBe("DROP TABLE t ON CLUSTER '{cluster}'");
    expect(() => onCluster('DROP TABLE t', "x' OR '1")).toThrow(ClusterRewriteError);
  });

  // A future migration using one of these fails the per-file test above until a rule here places it.
  it.each([
    ['a table engine that keeps rows on one host', 'CREATE TABLE t (x UInt8) ENGINE = Memory'],
    ['a table whose engine is left to the server default', 'CREATE TABLE t (x UInt8) ORDER BY x'],
    ['a table copying another', 'CREATE TABLE t AS other'],
    ['a materialized view with an inner table of one host', 'CREATE MATERIALIZED VIEW v ENGINE = Log AS SELECT 1'],
    ['a statement naming a cluster already', "CREATE TABLE t ON CLUSTER 'c' (x UInt8) ENGINE = MergeTree ORDER BY x"],
    ['an engine replicated already', 'CREATE TABLE t (x UInt8) ENGINE = ReplicatedMergeTree ORDER BY x'],
    ['a rename', 'RENAME TABLE a TO b'],
    ['a dictionary', 'CREATE DICTIONARY d (k UInt64) PRIMARY KEY k SOURCE(NULL()) LAYOUT(FLAT()) LIFETIME(0)'],
    ['a function', 'CREATE FUNCTION f AS (x) -> x'],
    ['a database', 'CREATE DATABASE other'],
    ['an optimize', 'OPTIMIZE TABLE t FINAL'],
    ['an exchange of dictionaries', 'EXCHANGE DICTIONARIES a AND b'],
    ['a system statement', 'SYSTEM STOP MERGES t'],
  ])('refuses %s', (_what, statement) => {
    expect(() => onCluster(statement, cluster)).toThrow(ClusterRewriteError);
  });
});

describe('the tables that coordinate migrations', () => {
  it('places the ledger and the lock table on the cluster, replicated', () => {
    expect(onCluster(ledgerTable, cluster)).toMatch(
      /^CREATE TABLE IF NOT EXISTS schema_migrations ON CLUSTER 'cdp_cluster'\s[\s\S]*ENGINE = ReplicatedReplacingMergeTree ORDER BY version$/,
    );
    expect(onCluster(lockTableDefinition, cluster)).toMatch(
      /^CREATE TABLE IF NOT EXISTS schema_migrations_lock ON CLUSTER 'cdp_cluster'\s[\s\S]*ENGINE = ReplicatedReplacingMergeTree ORDER BY owner\s+TTL /,
    );
  });
});

describe('everyReplica', () => {
  it('asks an insert to reach every replica of a cluster, and nothing of one server', () => {
    expect(everyReplica(3)).toEqual({ insert_quorum: '3', insert_quorum_timeout: quorumTimeoutMs });
    expect(clusterSettleMs).toBeGreaterThan(quorumTimeoutMs);
    expect(everyReplica(1)).toEqual({});
    expect(everyReplica(undefined)).toEqual({});
  });
});

describe('existsOnServer and clusterReplicas on chDB', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-cluster-chdb-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('tells whether a database, and a table of the current one, exist', async () => {
    const database = `cluster_${randomUUID().replaceAll('-', '')}`;
    const logger = createLogger({ level: 'silent' });
    const clickhouse = await createClickHouse({ url: null, database, chdbPath: dir, requireNames: true }, logger);
    try {
      expect(await existsOnServer(clickhouse.client, 'database', database)).toBe(true);
      expect(await existsOnServer(clickhouse.client, 'database', `${database}_none`)).toBe(false);
      expect(await existsOnServer(clickhouse.client, 'table', 'schema_migrations')).toBe(false);
      await migrate(clickhouse.client, mkdtempSync(path.join(dir, 'none-')), logger);
      expect(await existsOnServer(clickhouse.client, 'table', 'schema_migrations')).toBe(true);
      // chDB defines no cluster: a name the server does not know stops the start with the variable named.
      await expect(clusterReplicas(clickhouse.client, 'cdp_cluster')).rejects.toThrow(
        /^CDP_CLICKHOUSE_CLUSTER: the ClickHouse server defines no cluster named cdp_cluster/,
      );
    } finally {
      await clickhouse.close();
    }
  });
});
