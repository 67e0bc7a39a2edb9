// API keys of named sources, each with the scopes it grants: stored as SHA-256 hashes in ClickHouse, checked in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { fromClickHouseTime, toClickHouseTime } from './clickhouse';
import { named } from './query-names';

/**
 * What a key may do. `write` sends events; `trusted` marks a source whose events' emails and phones may join
 * profiles (a server, not a browser whose key anyone can read); `analytics` reads aggregates only; `profiles` reads
 * one customer's personal data; `audiences` reads segment members and exports; `segments:write` creates, changes
 * and deletes segments; `admin` manages keys (and holds every other scope).
 */
export const scopes = ['write', 'trusted', 'analytics', 'profiles', 'audiences', 'segments:write', 'admin'] as const;
export type Scope = (typeof scopes)[number];

/** The scopes of a read key, as keys made before scopes existed and `CDP_READ_KEY` hold them: every read, no write. */
export const readScopes: readonly Scope[] = ['analytics', 'profiles', 'audiences'];

/** The kinds of key a first start makes sure exist, and the scopes each holds. */
export const initialKeyScopes = {
  write: ['write', 'trusted'],
  read: readScopes,
  admin: ['admin'],
} as const satisfies Record<string, readonly Scope[]>;
export type InitialKey = keyof typeof initialKeyScopes;

/** A seeded key shorter than this is refused: it could be guessed. */
export const minimumSeededKeyLength = 16;

export interface KeyGrant {
  source: string;
  prefix: string;
  scopes: readonly Scope[];
}

export interface KeyInfo extends KeyGrant {
  createdAt: string;
  /** When the key stops being accepted (UTC, as ClickHouse writes it), or null for never. */
  expiresAt: string | null;
  revoked: boolean;
}

export interface NewKey {
  source: string;
  scopes: readonly Scope[];
  /** The key in plain text; a new random one when not given. */
  key?: string;
  /** Epoch milliseconds after which the key is refused. */
  expiresAt?: number;
}

export interface KeyStore {
  /** What a key grants, or null for a key that is unknown, revoked or expired. */
  check(key: string): Promise<KeyGrant | null>;
  /** The source of a key that grants `scope`, else null. */
  verify(scope: Scope, key: string): Promise<string | null>;
  /** Whether a key was ever stored, revoked or not. */
  known(key: string): Promise<boolean>;
  /** Stores a key and returns it in plain text. */
  create(key: NewKey): Promise<string>;
  list(): Promise<KeyInfo[]>;
  /** Revokes the keys whose plain-text prefix (as listed) matches; returns how many. */
  revoke(prefix: string): Promise<number>;
}

/** Whether a grant allows `scope`: it holds it, or it is an admin's. */
export const allows = (grant: Pick<KeyGrant, 'scopes'>, scope: Scope): boolean =>
  grant.scopes.includes(scope) || grant.scopes.includes('admin');

/** Reads a comma-separated list of scopes; throws naming the first unknown one. */
export function parseScopes(text: string): Scope[] {
  const names = [
    ...new Set(
      text
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    ),
  ];
  const unknown = names.find((name) => !(scopes as readonly string[]).includes(name));
  if (unknown !== undefined) throw new Error(`unknown scope ${unknown}: scopes are ${scopes.join(', ')}`);
  if (names.length === 0) throw new Error(`name at least one scope of ${scopes.join(', ')}`);
  return names as Scope[];
}

interface StoredKey {
  hash: Buffer;
  grant: KeyGrant;
  expiresAt: number | null;
  revoked: boolean;
}

interface KeyRow {
  key_hash: string;
  kind: string;
  scopes: string[];
  source: string;
  key_prefix: string;
  created_at: string;
  expires_at: string | null;
  revoked: number;
  updated_at: string;
}

const hashKey = (key: string) => createHash('sha256').update(key, 'utf8').digest();
const prefixLength = 10;
/** Keys made in another process show up after at most this long. */
const refreshIntervalMs = 2000;
/** A cache older than this is refreshed in the background while it keeps answering. */
const staleAfterMs = refreshIntervalMs * 5;
const keyColumns = 'key_hash, kind, scopes, source, key_prefix, created_at, expires_at, revoked, updated_at';

/** A row's scopes: its own, or for a row made before scopes existed, those its kind stood for. */
const scopesOf = (row: Pick<KeyRow, 'kind' | 'scopes'>): Scope[] =>
  row.scopes.length > 0
    ? row.scopes.filter((scope): scope is Scope => (scopes as readonly string[]).includes(scope))
    : row.kind === 'write'
      ? ['write', 'trusted']
      : row.kind === 'read'
        ? [...readScopes]
        : [];

const sendsOnly = (granted: readonly Scope[]) =>
  granted.includes('write') && granted.every((scope) => scope === 'write' || scope === 'trusted');
/** The letters a new key starts with, so a person can tell keys apart: wk_ (sends events only), ak_ (admin), rk_ (the rest). */
const keyLetters = (granted: readonly Scope[]) => (granted.includes('admin') ? 'ak' : sendsOnly(granted) ? 'wk' : 'rk');
/** The kind column, kept for readers from before scopes: `write` for a key that only sends events, else `scoped`. */
const kindOf = (granted: readonly Scope[]) => (sendsOnly(granted) ? 'write' : 'scoped');

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

  async function readRows(): Promise<KeyRow[]> {
    const result = await client.query(
      named('keys.readAll', {
        query: `SELECT ${keyColumns} FROM api_keys FINAL ORDER BY created_at`,
        format: 'JSONEachRow',
      }),
    );
    return result.json<KeyRow>();
  }

  async function load(): Promise<void> {
    const startedAt = now();
    const writesBefore = writes;
    const rows = await readRows();
    cache = new Map(
      rows.map((row) => [
        row.key_hash,
        {
          hash: Buffer.from(row.key_hash, 'hex'),
          grant: { source: row.source, prefix: row.key_prefix, scopes: scopesOf(row) },
          expiresAt: row.expires_at === null ? null : fromClickHouseTime(row.expires_at),
          revoked: Number(row.revoked) === 1,
        },
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

  async function insert(rows: KeyRow[]) {
    await client.insert(named('keys.write', { table: 'api_keys', values: rows, format: 'JSONEachRow' }));
    // This process's own change is seen by its next check.
    writes += 1;
    loadedAt = 0;
  }

  const store: KeyStore = {
    async check(key) {
      if (!key) return null;
      const stored = await find(key);
      if (!stored || stored.revoked || (stored.expiresAt !== null && stored.expiresAt <= now())) return null;
      return stored.grant;
    },
    async verify(scope, key) {
      const grant = await store.check(key);
      return grant && allows(grant, scope) ? grant.source : null;
    },
    async known(key) {
      return key !== '' && (await find(key)) !== undefined;
    },
    async create({ source, scopes: granted, key, expiresAt }) {
      if (granted.length === 0) throw new Error('a key needs at least one scope');
      const plain = key ?? `${keyLetters(granted)}_${randomBytes(24).toString('base64url')}`;
      const time = toClickHouseTime(Date.now());
      await insert([
        {
          key_hash: hashKey(plain).toString('hex'),
          kind: kindOf(granted),
          scopes: [...granted],
          source,
          key_prefix: plain.slice(0, prefixLength),
          created_at: time,
          expires_at: expiresAt === undefined ? null : toClickHouseTime(expiresAt),
          revoked: 0,
          updated_at: time,
        },
      ]);
      return plain;
    },
    async list() {
      return (await readRows()).map((row) => ({
        source: row.source,
        prefix: row.key_prefix,
        scopes: scopesOf(row),
        createdAt: row.created_at,
        expiresAt: row.expires_at,
        revoked: Number(row.revoked) === 1,
      }));
    },
    async revoke(prefix) {
      const rows = (await readRows()).filter((row) => row.key_prefix === prefix && Number(row.revoked) === 0);
      if (rows.length === 0) return 0;
      // The row with the greatest updated_at wins: one past the row it revokes, so a host whose clock runs behind the
      // one that made the key still revokes it.
      await insert(
        rows.map((row) => ({
          ...row,
          revoked: 1,
          updated_at: toClickHouseTime(Math.max(Date.now(), fromClickHouseTime(row.updated_at) + 1)),
        })),
      );
      return rows.length;
    },
  };
  return store;
}

/**
 * First start: makes sure a write, a read and an admin key exist. Seeded keys (CDP_WRITE_KEY / CDP_READ_KEY /
 * CDP_ADMIN_KEY) are stored if new; otherwise a kind with no active key holding its scopes gets a fresh one. Returns
 * the keys it created, so the caller can print them.
 */
export async function ensureInitialKeys(
  store: KeyStore,
  seed: Partial<Record<InitialKey, string>>,
): Promise<Partial<Record<InitialKey, string>>> {
  const created: Partial<Record<InitialKey, string>> = {};
  const existing = await store.list();
  for (const [kind, granted] of Object.entries(initialKeyScopes) as Array<[InitialKey, readonly Scope[]]>) {
    const seeded = seed[kind];
    if (seeded) {
      // A seeded key that was revoked stays revoked: the seed only creates, never revives.
      if (!(await store.known(seeded))) await store.create({ source: 'default', scopes: granted, key: seeded });
    } else if (
      !existing.some(
        (key) => !key.revoked && key.expiresAt === null && granted.every((scope) => key.scopes.includes(scope)),
      )
    ) {
      created[kind] = await store.create({ source: 'default', scopes: granted });
    }
  }
  return created;
}
