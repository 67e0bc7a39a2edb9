// Write and read keys of named sources: stored as SHA-256 hashes in ClickHouse, checked in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { toClickHouseTime } from './clickhouse';

export type KeyKind = 'write' | 'read';

export interface KeyInfo {
  kind: KeyKind;
  source: string;
  prefix: string;
  createdAt: string;
  revoked: boolean;
}

export interface KeyStore {
  /** The source a key belongs to, or null for an unknown or revoked key. */
  verify(kind: KeyKind, key: string): Promise<string | null>;
  /** Whether a key was ever stored, revoked or not. */
  known(key: string): Promise<boolean>;
  /** Stores a key (a new random one unless given) and returns it in plain text. */
  create(kind: KeyKind, source: string, key?: string): Promise<string>;
  list(): Promise<KeyInfo[]>;
  /** Revokes the keys whose plain-text prefix (as listed) matches; returns how many. */
  revoke(prefix: string): Promise<number>;
}

interface StoredKey {
  hash: Buffer;
  kind: KeyKind;
  source: string;
  revoked: boolean;
}

const hashKey = (key: string) => createHash('sha256').update(key, 'utf8').digest();
const prefixLength = 10;
/** Keys made in another process show up after at most this long. */
const refreshIntervalMs = 2000;
/** A cache older than this is refreshed in the background while it keeps answering. */
const staleAfterMs = refreshIntervalMs * 5;

/**
 * Keys are read from ClickHouse into a cache, one load at a time. A key the cache knows is answered from it at once,
 * and a stale cache is refreshed in the background; only a key it does not know (at most every refreshIntervalMs)
 * or a first check waits for a load. So ingest keeps accepting known keys while ClickHouse is down: the last good
 * load answers, and a key that cannot be checked is a store failure (503), not a 401 or a 500.
 */
export function createKeyStore(client: ClickHouseClient, options: { now?: () => number } = {}): KeyStore {
  const now = options.now ?? Date.now;
  let cache = new Map<string, StoredKey>();
  let loadedAt = 0;
  let loading: Promise<void> | null = null;
  /** Counts this process's own writes: a load that began before one may not have seen it. */
  let writes = 0;

  async function load(): Promise<void> {
    const startedAt = now();
    const writesBefore = writes;
    const result = await client.query({
      query: `SELECT key_hash, kind, source, key_prefix, created_at, revoked FROM api_keys FINAL`,
      format: 'JSONEachRow',
    });
    const rows = await result.json<{ key_hash: string; kind: KeyKind; source: string; revoked: number }>();
    cache = new Map(
      rows.map((row) => [
        row.key_hash,
        { hash: Buffer.from(row.key_hash, 'hex'), kind: row.kind, source: row.source, revoked: Number(row.revoked) === 1 },
      ]),
    );
    loadedAt = writes === writesBefore ? startedAt : 0;
  }

  /** The load in flight, or a new one: callers arriving together share it. */
  function reload(): Promise<void> {
    loading ??= load().finally(() => {
      loading = null;
    });
    return loading;
  }

  async function find(key: string): Promise<StoredKey | undefined> {
    const hash = hashKey(key);
    const hex = hash.toString('hex');
    const age = now() - loadedAt;
    if (!cache.has(hex) && age > refreshIntervalMs) await reload();
    // Failures of a background refresh are retried by the next request; the last good load answers meanwhile.
    else if (loadedAt !== 0 && age > staleAfterMs) reload().catch(() => undefined);
    // Until a load has seen this process's own latest write (a load in flight when it was made has not).
    while (loadedAt === 0) await reload();
    const stored = cache.get(hex);
    // The map lookup narrows by hash; the final comparison does not leak how much of it matched.
    return stored && timingSafeEqual(stored.hash, hash) ? stored : undefined;
  }

  async function insert(rows: Array<{ hash: string; kind: KeyKind; source: string; prefix: string; createdAt: string; revoked: number }>) {
    await client.insert({
      table: 'api_keys',
      values: rows.map((row) => ({
        key_hash: row.hash,
        kind: row.kind,
        source: row.source,
        key_prefix: row.prefix,
        created_at: row.createdAt,
        revoked: row.revoked,
        updated_at: toClickHouseTime(Date.now()),
      })),
      format: 'JSONEachRow',
    });
    // This process's own change is seen by its next check.
    writes += 1;
    loadedAt = 0;
  }

  async function listRows() {
    const result = await client.query({
      query: `SELECT key_hash, kind, source, key_prefix, created_at, revoked FROM api_keys FINAL ORDER BY created_at`,
      format: 'JSONEachRow',
    });
    return result.json<{ key_hash: string; kind: KeyKind; source: string; key_prefix: string; created_at: string; revoked: number }>();
  }

  return {
    async verify(kind, key) {
      if (!key) return null;
      const stored = await find(key);
      return stored && stored.kind === kind && !stored.revoked ? stored.source : null;
    },
    async known(key) {
      return key !== '' && (await find(key)) !== undefined;
    },
    async create(kind, source, key) {
      const plain = key ?? `${kind === 'write' ? 'wk' : 'rk'}_${randomBytes(24).toString('base64url')}`;
      await insert([
        {
          hash: hashKey(plain).toString('hex'),
          kind,
          source,
          prefix: plain.slice(0, prefixLength),
          createdAt: toClickHouseTime(Date.now()),
          revoked: 0,
        },
      ]);
      return plain;
    },
    async list() {
      return (await listRows()).map((row) => ({
        kind: row.kind,
        source: row.source,
        prefix: row.key_prefix,
        createdAt: row.created_at,
        revoked: Number(row.revoked) === 1,
      }));
    },
    async revoke(prefix) {
      const rows = (await listRows()).filter((row) => row.key_prefix === prefix && Number(row.revoked) === 0);
      if (rows.length === 0) return 0;
      await insert(
        rows.map((row) => ({ hash: row.key_hash, kind: row.kind, source: row.source, prefix: row.key_prefix, createdAt: row.created_at, revoked: 1 })),
      );
      return rows.length;
    },
  };
}

/**
 * First start: makes sure a write and a read key exist. Seeded keys (CDP_WRITE_KEY / CDP_READ_KEY) are stored if new;
 * otherwise a kind with no active key gets a fresh one. Returns the keys it created, so the caller can print them.
 */
export async function ensureInitialKeys(store: KeyStore, seed: { write?: string; read?: string }): Promise<Partial<Record<KeyKind, string>>> {
  const created: Partial<Record<KeyKind, string>> = {};
  const existing = await store.list();
  for (const kind of ['write', 'read'] as const) {
    const seeded = seed[kind];
    if (seeded) {
      // A seeded key that was revoked stays revoked: the seed only creates, never revives.
      if (!(await store.known(seeded))) await store.create(kind, 'default', seeded);
    } else if (!existing.some((key) => key.kind === kind && !key.revoked)) {
      created[kind] = await store.create(kind, 'default');
    }
  }
  return created;
}
