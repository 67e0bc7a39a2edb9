// The ClickHouse snapshot store against real chDB: round trip in chunks, unfinished snapshots never loaded, retention.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, named, readMigrations, type ClickHouse } from '@cdp/runtime';
import { clickhouseMigrationsDir } from '@cdp/schemas';
import { createIdentityGraph, type GraphSnapshot } from './graph';
import { createSnapshotStore, type StoredSnapshot } from './snapshots';

const logger = pino({ level: 'silent' });
const chdbPath = mkdtempSync(path.join(os.tmpdir(), 'cdp-snapshots-chdb-'));
let clickhouse: ClickHouse;

beforeAll(async () => {
  clickhouse = await createClickHouse(
    { url: null, database: `snapshots_${randomUUID().replaceAll('-', '')}`, chdbPath, requireNames: true },
    logger,
  );
  // Only this store's tables: the test does not depend on the rest of the schema.
  const migrations = (await readMigrations(clickhouseMigrationsDir)).filter((entry) =>
    ['identity_snapshots', 'pseudonymous_snapshots'].includes(entry.name),
  );
  expect(migrations).toHaveLength(2);
  for (const statement of migrations.flatMap((migration) => migration.statements))
    await clickhouse.client.command(named('test.migrate', { query: statement }));
});

afterAll(async () => {
  await clickhouse?.close();
  rmSync(chdbPath, { recursive: true, force: true });
});

/**
 * A graph of `records` single-identifier records, every third one joined to the one before it; the first identifier
 * keeps a profile id of its own, as one first named in plaintext does.
 */
function snapshotOf(records: number): GraphSnapshot {
  const graph = createIdentityGraph();
  for (let index = 0; index < records; index += 1) {
    const own = { type: 'anonymous_id' as const, value: `a${index}` };
    graph.apply(
      index % 3 === 2 ? [own, { type: 'anonymous_id', value: `a${index - 1}` }] : [own],
      index === 0 ? ['prf_plaintext0000000000000'] : undefined,
    );
  }
  return graph.snapshot();
}

async function all(store: ReturnType<typeof createSnapshotStore>): Promise<StoredSnapshot[]> {
  const found: StoredSnapshot[] = [];
  for await (const stored of store.candidates()) found.push(stored);
  return found;
}

async function count(query: string): Promise<number> {
  const result = await clickhouse.client.query(named('test.readRows', { query, format: 'JSONEachRow' }));
  return Number((await result.json<{ n: number }>())[0]?.n);
}

describe('identity snapshot store', () => {
  it('loads what it saved, newest first, in chunks; a repeated save of a version stays one snapshot', async () => {
    const store = createSnapshotStore(clickhouse.client, logger, { chunkRows: 4, keep: 5 });
    const older = snapshotOf(7);
    const newer = snapshotOf(11);
    await store.save({ snapshot: older, nextOffset: '7' });
    await store.save({ snapshot: newer, nextOffset: '12' });
    await store.save({ snapshot: newer, nextOffset: '12' });
    expect(await all(store)).toEqual([
      { snapshot: newer, nextOffset: '12' },
      { snapshot: older, nextOffset: '7' },
    ]);
    expect(createIdentityGraph((await all(store))[0]?.snapshot).snapshot()).toEqual(newer);
    expect(newer.nodes[0]).toMatchObject({ seq: 0, profileId: 'prf_plaintext0000000000000' });
    expect(createIdentityGraph(newer).profileOf({ type: 'anonymous_id', value: 'a0' })).toBe(
      'prf_plaintext0000000000000',
    );
  });

  it('never loads a snapshot whose header is missing or whose node rows do not add up', async () => {
    const store = createSnapshotStore(clickhouse.client, logger, { chunkRows: 4, keep: 10 });
    const whole = snapshotOf(15);
    await store.save({ snapshot: whole, nextOffset: '15' });
    // Node rows of a version whose header was never written: a writer that died half-way.
    const unfinished = snapshotOf(30);
    await clickhouse.client.insert(
      named('test.insertSnapshotNodes', {
        table: 'identity_snapshot_nodes',
        values: unfinished.nodes.slice(0, 9).map((node) => ({
          version: unfinished.version,
          seq: node.seq,
          type: node.type,
          value: node.value,
          root_seq: node.rootSeq,
        })),
        format: 'JSONEachRow',
      }),
    );
    // A header whose node rows were lost.
    const damaged = snapshotOf(20);
    await store.save({ snapshot: damaged, nextOffset: '20' });
    await clickhouse.client.command(
      named('test.deleteSnapshotNode', { query: 'DELETE FROM identity_snapshot_nodes WHERE version = 20 AND seq = 3' }),
    );
    const versions = (await all(store)).map((stored) => stored.snapshot.version);
    expect(versions).not.toContain(30);
    expect(versions).not.toContain(20);
    expect(versions[0]).toBe(15);
  });

  it('keeps only the newest snapshots, header and node rows alike', async () => {
    const store = createSnapshotStore(clickhouse.client, logger, { chunkRows: 50, keep: 2 });
    for (const records of [40, 41, 42])
      await store.save({ snapshot: snapshotOf(records), nextOffset: String(records) });
    expect((await all(store)).map((stored) => stored.snapshot.version)).toEqual([42, 41]);
    expect(await count('SELECT count() AS n FROM identity_snapshot_nodes WHERE version < 41')).toBe(0);
    expect(await count('SELECT count() AS n FROM identity_snapshots FINAL')).toBe(2);
  });
});
