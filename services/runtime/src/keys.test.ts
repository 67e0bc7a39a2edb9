// Behaviour of the key store against real chDB: verify by kind, hashed storage, listing, revoking and first-start keys.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clickhouseMigrationsDir } from '@cdp/schemas';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse, isStoreUnavailable, type ClickHouse } from './clickhouse';
import { createKeyStore, ensureInitialKeys, type KeyStore } from './keys';
import { createLogger } from './logger';
import { migrate } from './migrations';
import { waitFor } from './poll';

const logger = createLogger({ level: 'silent' });
// chDB allows one on-disk data path per process: every test shares it and gets a database of its own.
const chdbPath = mkdtempSync(path.join(os.tmpdir(), 'cdp-keys-chdb-'));
const clickhouses: ClickHouse[] = [];

async function openDatabase(database = `keys_${randomUUID().replaceAll('-', '')}`): Promise<ClickHouse> {
  const clickhouse = await createClickHouse({ url: null, database, chdbPath }, logger);
  clickhouses.push(clickhouse);
  return clickhouse;
}

async function openStore(): Promise<{ clickhouse: ClickHouse; store: KeyStore }> {
  const clickhouse = await openDatabase();
  await migrate(clickhouse.client, clickhouseMigrationsDir, logger);
  return { clickhouse, store: createKeyStore(clickhouse.client) };
}

afterAll(async () => {
  for (const clickhouse of clickhouses.splice(0)) await clickhouse.close();
  rmSync(chdbPath, { recursive: true, force: true });
});

describe('key store', () => {
  it('verifies a write key as its source for writing only', async () => {
    const { store } = await openStore();
    const key = await store.create('write', 'website');
    expect(key).toMatch(/^wk_/);
    expect(await store.verify('write', key)).toBe('website');
    expect(await store.verify('read', key)).toBeNull();
  });

  it('verifies a read key for reading only', async () => {
    const { store } = await openStore();
    const key = await store.create('read', 'dashboard');
    expect(key).toMatch(/^rk_/);
    expect(await store.verify('read', key)).toBe('dashboard');
    expect(await store.verify('write', key)).toBeNull();
  });

  it('knows no unknown or empty key', async () => {
    const { store } = await openStore();
    const key = await store.create('write', 'website');
    expect(await store.verify('write', `${key}x`)).toBeNull();
    expect(await store.verify('write', 'wk_never_issued')).toBeNull();
    expect(await store.verify('write', '')).toBeNull();
  });

  it('makes a different key each time', async () => {
    const { store } = await openStore();
    const first = await store.create('write', 'website');
    const second = await store.create('write', 'website');
    expect(first).not.toBe(second);
  });

  it('stores the SHA-256 of a key, never the key itself', async () => {
    const { clickhouse, store } = await openStore();
    const key = await store.create('write', 'website');
    const result = await clickhouse.client.query({ query: 'SELECT * FROM api_keys', format: 'JSONEachRow' });
    const rows = await result.json<Record<string, unknown>>();
    expect(rows).toHaveLength(1);
    const values = Object.values(rows[0] ?? {}).map(String);
    expect(values).not.toContain(key);
    expect(values.some((value) => value.includes(key))).toBe(false);
    expect(rows[0]?.key_hash).toBe(createHash('sha256').update(key).digest('hex'));
  });

  it('lists each key by prefix, kind and source', async () => {
    const { store } = await openStore();
    const writeKey = await store.create('write', 'website');
    const readKey = await store.create('read', 'dashboard');
    const listed = await store.list();
    expect(listed).toHaveLength(2);
    expect(listed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ prefix: writeKey.slice(0, 10), kind: 'write', source: 'website', revoked: false }),
        expect.objectContaining({ prefix: readKey.slice(0, 10), kind: 'read', source: 'dashboard', revoked: false }),
      ]),
    );
  });

  it('stops verifying a revoked key at once, though an earlier verify cached it', async () => {
    const { store } = await openStore();
    const key = await store.create('write', 'website');
    const kept = await store.create('write', 'app');
    // The first verify loads the cache; the revoke has to reset it, not wait for the refresh interval.
    expect(await store.verify('write', key)).toBe('website');

    expect(await store.revoke(key.slice(0, 10))).toBe(1);
    expect(await store.verify('write', key)).toBeNull();
    expect(await store.verify('write', kept)).toBe('app');
    expect((await store.list()).find((info) => info.prefix === key.slice(0, 10))?.revoked).toBe(true);
  });

  it('revokes nothing for an unknown prefix or a key already revoked', async () => {
    const { store } = await openStore();
    const key = await store.create('read', 'dashboard');
    expect(await store.revoke('rk_nothing')).toBe(0);
    expect(await store.revoke(key.slice(0, 10))).toBe(1);
    expect(await store.revoke(key.slice(0, 10))).toBe(0);
  });

  it('verifies a key created through another store on the same table once its cache refreshes', async () => {
    const { clickhouse, store } = await openStore();
    // Load the cache while the table is still empty.
    expect(await store.verify('write', 'wk_not_yet')).toBeNull();
    const elsewhere = createKeyStore((await openDatabase(clickhouse.database)).client);
    const key = await elsewhere.create('write', 'cli');
    expect(await waitFor(() => store.verify('write', key), { timeoutMs: 15_000, what: 'the key made elsewhere' })).toBe('cli');
  });

  it('keeps answering known keys from its last load while ClickHouse is down, and fails a key it cannot check as the store\'s failure', async () => {
    const clickhouse = await openDatabase();
    await migrate(clickhouse.client, clickhouseMigrationsDir, logger);
    let clock = Date.now();
    const store = createKeyStore(clickhouse.client, { now: () => clock });
    const key = await store.create('write', 'website');
    expect(await store.verify('write', key)).toBe('website');
    await clickhouse.close();
    // Long after the last load, a stale cache: its refresh fails in the background, the known key is still answered.
    clock += 60_000;
    expect(await store.verify('write', key)).toBe('website');
    expect(await store.verify('write', key)).toBe('website');
    expect(await store.verify('read', key)).toBeNull();
    // A key the cache does not know may have been made elsewhere: without ClickHouse it cannot be told apart.
    const unknown = await store.verify('write', 'wk_made_elsewhere').then(
      () => null,
      (error: unknown) => error,
    );
    expect(isStoreUnavailable(unknown)).toBe(true);
  });
});

describe('ensureInitialKeys', () => {
  it('creates one write and one read key on an empty store', async () => {
    const { store } = await openStore();
    const created = await ensureInitialKeys(store, {});
    expect(Object.keys(created).sort()).toEqual(['read', 'write']);
    expect(await store.verify('write', created.write ?? '')).toBe('default');
    expect(await store.verify('read', created.read ?? '')).toBe('default');
    expect((await store.list()).map((info) => info.kind).sort()).toEqual(['read', 'write']);
  });

  it('creates nothing the second time', async () => {
    const { store } = await openStore();
    await ensureInitialKeys(store, {});
    expect(await ensureInitialKeys(store, {})).toEqual({});
    expect(await store.list()).toHaveLength(2);
  });

  it('stores seeded keys instead of making random ones, once', async () => {
    const { store } = await openStore();
    const seed = { write: 'wk_seeded_write_key_0001', read: 'rk_seeded_read_key_0001' };
    expect(await ensureInitialKeys(store, seed)).toEqual({});
    expect(await store.verify('write', seed.write)).toBe('default');
    expect(await store.verify('read', seed.read)).toBe('default');

    expect(await ensureInitialKeys(store, seed)).toEqual({});
    expect((await store.list()).map((info) => info.prefix).sort()).toEqual([seed.read.slice(0, 10), seed.write.slice(0, 10)]);
  });

  it('makes a random key only for the kind that has no seed', async () => {
    const { store } = await openStore();
    const created = await ensureInitialKeys(store, { write: 'wk_seeded_write_key_0002' });
    expect(Object.keys(created)).toEqual(['read']);
    expect(await store.verify('read', created.read ?? '')).toBe('default');
    expect(await store.verify('write', 'wk_seeded_write_key_0002')).toBe('default');
  });

  it('makes a new key for a kind whose only key was revoked', async () => {
    const { store } = await openStore();
    const first = await ensureInitialKeys(store, {});
    await store.revoke((first.write ?? '').slice(0, 10));
    const second = await ensureInitialKeys(store, {});
    expect(Object.keys(second)).toEqual(['write']);
    expect(await store.verify('write', second.write ?? '')).toBe('default');
  });

  it('leaves a revoked seeded key revoked on the next start', async () => {
    const { store } = await openStore();
    const seed = { write: 'wk_seeded_write_key_0003', read: 'rk_seeded_read_key_0003' };
    await ensureInitialKeys(store, seed);
    await store.revoke(seed.write.slice(0, 10));

    await ensureInitialKeys(store, seed);
    expect(await store.verify('write', seed.write)).toBeNull();
  });
});
