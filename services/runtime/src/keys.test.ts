// Behaviour of the key store against real chDB: scopes, expiry, hashed storage, listing, revoking and first-start keys.
import { createHash, randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clickhouseMigrationsDir } from '@cdp/schemas';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse, isStoreUnavailable, type ClickHouse } from './clickhouse';
import { toClickHouseTime } from './clickhouse';
import { createKeyStore, ensureInitialKeys, readScopes, scopes, type KeyStore } from './keys';
import { createLogger } from './logger';
import { migrate } from './migrations';
import { waitFor } from './poll';
import { named } from './query-names';

const logger = createLogger({ level: 'silent' });
// chDB allows one on-disk data path per process: every test shares it and gets a database of its own.
const chdbPath = mkdtempSync(path.join(os.tmpdir(), 'cdp-keys-chdb-'));
const clickhouses: ClickHouse[] = [];

async function openDatabase(database = `keys_${randomUUID().replaceAll('-', '')}`): Promise<ClickHouse> {
  const clickhouse = await createClickHouse({ url: null, database, chdbPath, requireNames: true }, logger);
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
    const key = await store.create({ source: 'website', scopes: ['write'] });
    expect(key).toMatch(/^wk_/);
    expect(await store.verify('write', key)).toBe('website');
    for (const scope of scopes.filter((name) => name !== 'write'))
      expect(await store.verify(scope, key), scope).toBeNull();
  });

  it('verifies a read key for every read and no write', async () => {
    const { store } = await openStore();
    const key = await store.create({ source: 'dashboard', scopes: readScopes });
    expect(key).toMatch(/^rk_/);
    for (const scope of ['analytics', 'profiles', 'audiences'] as const)
      expect(await store.verify(scope, key), scope).toBe('dashboard');
    for (const scope of ['write', 'segments:write', 'admin'] as const)
      expect(await store.verify(scope, key), scope).toBeNull();
  });

  it('grants exactly the scopes a key was made with, and an admin key every scope', async () => {
    const { store } = await openStore();
    const analyst = await store.create({ source: 'bi', scopes: ['analytics'] });
    expect(await store.check(analyst)).toEqual({ source: 'bi', prefix: analyst.slice(0, 10), scopes: ['analytics'] });
    expect(await store.verify('profiles', analyst)).toBeNull();
    const admin = await store.create({ source: 'ops', scopes: ['admin'] });
    expect(admin).toMatch(/^ak_/);
    for (const scope of scopes) expect(await store.verify(scope, admin), scope).toBe('ops');
  });

  it('reads a key stored before scopes existed by its kind: a read key keeps its reads and no writes', async () => {
    const { clickhouse, store } = await openStore();
    const stored = (key: string, kind: string) => ({
      key_hash: createHash('sha256').update(key).digest('hex'),
      kind,
      source: 'legacy',
      key_prefix: key.slice(0, 10),
      created_at: toClickHouseTime(Date.now()),
    });
    await clickhouse.client.insert(
      named('test.insertKeysBeforeScopes', {
        table: 'api_keys',
        values: [stored('rk_from_before_scopes', 'read'), stored('wk_from_before_scopes', 'write')],
        format: 'JSONEachRow',
      }),
    );
    expect((await store.check('rk_from_before_scopes'))?.scopes).toEqual(readScopes);
    expect(await store.verify('segments:write', 'rk_from_before_scopes')).toBeNull();
    expect((await store.check('wk_from_before_scopes'))?.scopes).toEqual(['write', 'trusted']);
  });

  it('keeps every key that sent events before trusted sources existed trusted, and gives nothing to the others', async () => {
    const clickhouse = await openDatabase();
    // The schema as it was before the migration that made write keys trusted.
    const before = mkdtempSync(path.join(os.tmpdir(), 'cdp-keys-migrations-'));
    for (const file of readdirSync(clickhouseMigrationsDir))
      if (file < '0023') copyFileSync(new URL(file, clickhouseMigrationsDir), path.join(before, file));
    await migrate(clickhouse.client, before, logger);
    rmSync(before, { recursive: true, force: true });
    const store = createKeyStore(clickhouse.client);
    const server = await store.create({ source: 'shop-backend', scopes: ['write'] });
    const dashboard = await store.create({ source: 'dashboard', scopes: ['analytics'] });
    expect((await store.check(server))?.scopes).toEqual(['write']);

    expect(await migrate(clickhouse.client, clickhouseMigrationsDir, logger)).toContain(23);
    const after = createKeyStore(clickhouse.client);
    expect((await after.check(server))?.scopes).toEqual(['write', 'trusted']);
    expect((await after.check(dashboard))?.scopes).toEqual(['analytics']);
  });

  it('refuses a key once it has expired', async () => {
    const { clickhouse } = await openStore();
    let clock = Date.now();
    const store = createKeyStore(clickhouse.client, { now: () => clock });
    const key = await store.create({ source: 'campaign', scopes: ['audiences'], expiresAt: clock + 60_000 });
    expect(await store.verify('audiences', key)).toBe('campaign');
    expect((await store.list())[0]?.expiresAt).toBe(toClickHouseTime(clock + 60_000));
    clock += 61_000;
    expect(await store.check(key)).toBeNull();
    expect(await store.known(key)).toBe(true);
  });

  it('knows no unknown or empty key', async () => {
    const { store } = await openStore();
    const key = await store.create({ source: 'website', scopes: ['write'] });
    expect(await store.verify('write', `${key}x`)).toBeNull();
    expect(await store.verify('write', 'wk_never_issued')).toBeNull();
    expect(await store.verify('write', '')).toBeNull();
  });

  it('makes a different key each time', async () => {
    const { store } = await openStore();
    const first = await store.create({ source: 'website', scopes: ['write'] });
    const second = await store.create({ source: 'website', scopes: ['write'] });
    expect(first).not.toBe(second);
  });

  it('stores the SHA-256 of a key, never the key itself', async () => {
    const { clickhouse, store } = await openStore();
    const key = await store.create({ source: 'website', scopes: ['write'] });
    const result = await clickhouse.client.query(
      named('test.readKeys', { query: 'SELECT * FROM api_keys', format: 'JSONEachRow' }),
    );
    const rows = await result.json<Record<string, unknown>>();
    expect(rows).toHaveLength(1);
    const values = Object.values(rows[0] ?? {}).map(String);
    expect(values).not.toContain(key);
    expect(values.some((value) => value.includes(key))).toBe(false);
    expect(rows[0]?.key_hash).toBe(createHash('sha256').update(key).digest('hex'));
  });

  it('lists each key by prefix, scopes and source', async () => {
    const { store } = await openStore();
    const writeKey = await store.create({ source: 'website', scopes: ['write'] });
    const readKey = await store.create({ source: 'dashboard', scopes: readScopes });
    const listed = await store.list();
    expect(listed).toHaveLength(2);
    expect(listed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          prefix: writeKey.slice(0, 10),
          scopes: ['write'],
          source: 'website',
          expiresAt: null,
          revoked: false,
        }),
        expect.objectContaining({
          prefix: readKey.slice(0, 10),
          scopes: readScopes,
          source: 'dashboard',
          expiresAt: null,
          revoked: false,
        }),
      ]),
    );
  });

  it('stops verifying a revoked key at once, though an earlier verify cached it', async () => {
    const { store } = await openStore();
    const key = await store.create({ source: 'website', scopes: ['write'] });
    const kept = await store.create({ source: 'app', scopes: ['write'] });
    // The first verify loads the cache; the revoke has to reset it, not wait for the refresh interval.
    expect(await store.verify('write', key)).toBe('website');

    expect(await store.revoke(key.slice(0, 10))).toBe(1);
    expect(await store.verify('write', key)).toBeNull();
    expect(await store.verify('write', kept)).toBe('app');
    expect((await store.list()).find((info) => info.prefix === key.slice(0, 10))?.revoked).toBe(true);
  });

  it('revokes a key made by a host whose clock ran ahead of the revoking one', async () => {
    const { clickhouse, store } = await openStore();
    const ahead = toClickHouseTime(Date.now() + 3_600_000);
    await clickhouse.client.insert(
      named('test.insertKeys', {
        table: 'api_keys',
        values: [
          {
            key_hash: createHash('sha256').update('wk_made_an_hour_ahead').digest('hex'),
            kind: 'write',
            scopes: ['write'],
            source: 'ahead',
            key_prefix: 'wk_made_an',
            created_at: ahead,
            updated_at: ahead,
          },
        ],
        format: 'JSONEachRow',
      }),
    );
    expect(await store.verify('write', 'wk_made_an_hour_ahead')).toBe('ahead');
    expect(await store.revoke('wk_made_an')).toBe(1);
    expect(await store.verify('write', 'wk_made_an_hour_ahead')).toBeNull();
    // The merged table keeps the revocation too, not only the query that reads it FINAL.
    await clickhouse.client.command(named('test.optimize', { query: 'OPTIMIZE TABLE api_keys FINAL' }));
    expect((await store.list())[0]?.revoked).toBe(true);
  });

  it('revokes nothing for an unknown prefix or a key already revoked', async () => {
    const { store } = await openStore();
    const key = await store.create({ source: 'dashboard', scopes: readScopes });
    expect(await store.revoke('rk_nothing')).toBe(0);
    expect(await store.revoke(key.slice(0, 10))).toBe(1);
    expect(await store.revoke(key.slice(0, 10))).toBe(0);
  });

  it('verifies a key created through another store on the same table once its cache refreshes', async () => {
    const { clickhouse, store } = await openStore();
    // Load the cache while the table is still empty.
    expect(await store.verify('write', 'wk_not_yet')).toBeNull();
    const elsewhere = createKeyStore((await openDatabase(clickhouse.database)).client);
    const key = await elsewhere.create({ source: 'cli', scopes: ['write'] });
    expect(await waitFor(() => store.verify('write', key), { timeoutMs: 15_000, what: 'the key made elsewhere' })).toBe(
      'cli',
    );
  });

  it("keeps answering known keys from its last load while ClickHouse is down, and fails a key it cannot check as the store's failure", async () => {
    const clickhouse = await openDatabase();
    await migrate(clickhouse.client, clickhouseMigrationsDir, logger);
    let clock = Date.now();
    const store = createKeyStore(clickhouse.client, { now: () => clock });
    const key = await store.create({ source: 'website', scopes: ['write'] });
    expect(await store.verify('write', key)).toBe('website');
    await clickhouse.close();
    // Long after the last load, a stale cache: its refresh fails in the background, the known key is still answered.
    clock += 60_000;
    expect(await store.verify('write', key)).toBe('website');
    expect(await store.verify('write', key)).toBe('website');
    expect(await store.verify('analytics', key)).toBeNull();
    // A key the cache does not know may have been made elsewhere: without ClickHouse it cannot be told apart.
    const unknown = await store.verify('write', 'wk_made_elsewhere').then(
      () => null,
      (error: unknown) => error,
    );
    expect(isStoreUnavailable(unknown)).toBe(true);
  });
});

describe('ensureInitialKeys', () => {
  it('creates one write, one read and one admin key on an empty store', async () => {
    const { store } = await openStore();
    const created = await ensureInitialKeys(store, {});
    expect(Object.keys(created).sort()).toEqual(['admin', 'read', 'write']);
    expect(await store.verify('write', created.write ?? '')).toBe('default');
    expect(await store.verify('profiles', created.read ?? '')).toBe('default');
    expect(await store.verify('segments:write', created.read ?? '')).toBeNull();
    expect(await store.verify('admin', created.admin ?? '')).toBe('default');
    expect((await store.list()).map((info) => info.scopes.join(',')).sort()).toEqual([
      'admin',
      'analytics,profiles,audiences',
      'write,trusted',
    ]);
  });

  it('creates nothing the second time', async () => {
    const { store } = await openStore();
    await ensureInitialKeys(store, {});
    expect(await ensureInitialKeys(store, {})).toEqual({});
    expect(await store.list()).toHaveLength(3);
  });

  it('stores seeded keys instead of making random ones, once', async () => {
    const { store } = await openStore();
    const seed = {
      write: 'wk_seeded_write_key_0001',
      read: 'rk_seeded_read_key_0001',
      admin: 'ak_seeded_admin_key_0001',
    };
    expect(await ensureInitialKeys(store, seed)).toEqual({});
    expect(await store.verify('write', seed.write)).toBe('default');
    expect(await store.verify('analytics', seed.read)).toBe('default');
    expect(await store.verify('admin', seed.admin)).toBe('default');

    expect(await ensureInitialKeys(store, seed)).toEqual({});
    expect((await store.list()).map((info) => info.prefix).sort()).toEqual([
      seed.admin.slice(0, 10),
      seed.read.slice(0, 10),
      seed.write.slice(0, 10),
    ]);
  });

  it('makes a random key only for the kind that has no seed', async () => {
    const { store } = await openStore();
    const created = await ensureInitialKeys(store, { write: 'wk_seeded_write_key_0002' });
    expect(Object.keys(created)).toEqual(['read', 'admin']);
    expect(await store.verify('audiences', created.read ?? '')).toBe('default');
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
