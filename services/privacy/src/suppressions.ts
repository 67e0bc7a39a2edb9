// Suppressed identifiers: stored as salted hashes, checked by the resolver against a set it keeps fresh.
import { createHmac, randomBytes } from 'node:crypto';
import { named, toClickHouseTime, type ClickHouseClient } from '@cdp/runtime';
import type { Identifier } from '@cdp/schemas';

const saltName = 'identifier_salt';

/** The installation's salt for identifier hashes, made on first use; every process reads back the earliest made. */
export async function identifierSalt(client: ClickHouseClient): Promise<Buffer> {
  const read = async () => {
    const result = await client.query(
      named('privacy.readSalt', {
        query: 'SELECT value FROM install_secrets WHERE name = {name:String} ORDER BY created_at, value LIMIT 1',
        query_params: { name: saltName },
        format: 'JSONEachRow',
      }),
    );
    return (await result.json<{ value: string }>())[0]?.value;
  };
  let salt = await read();
  if (salt === undefined) {
    await client.insert(
      named('privacy.writeSalt', {
        table: 'install_secrets',
        values: [{ name: saltName, value: randomBytes(32).toString('hex'), created_at: toClickHouseTime(Date.now()) }],
        format: 'JSONEachRow',
      }),
    );
    salt = (await read()) as string;
  }
  return Buffer.from(salt, 'hex');
}

/** HMAC-SHA256 of a normalised identifier under the installation's salt, in hex. */
export const hashIdentifier = (salt: Buffer, identifier: Identifier): string =>
  createHmac('sha256', salt).update(`${identifier.type}\u0000${identifier.value}`).digest('hex');

export type SuppressionReason = 'erasure' | 'request';

export interface SuppressionStore {
  hash(identifier: Identifier): string;
  /** Suppresses identifiers; returns how many were not suppressed already. */
  suppress(identifiers: Identifier[], reason: SuppressionReason, erasureId?: string): Promise<number>;
  /** Lifts a suppression made on request; returns false when the identifier was not suppressed (or by an erasure). */
  lift(identifier: Identifier): Promise<boolean>;
  /** Whether any of the identifiers is suppressed, as of the last refresh; no hashing while nothing is suppressed. */
  suppressed(identifiers: Identifier[]): boolean;
  /** Reads the suppressions again if they changed since the last read. */
  refresh(): Promise<void>;
  size(): number;
}

interface SuppressionRow {
  identifier_hash: string;
  type: string;
  reason: SuppressionReason;
  erasure_id: string;
  active: number;
  created_at: string;
}

export async function openSuppressions(client: ClickHouseClient): Promise<SuppressionStore> {
  const salt = await identifierSalt(client);
  let active = new Set<string>();
  /** count and newest change of the table as last read: a refresh reads the set again only when they moved. */
  let seen = '';

  const rowsFor = async (hashes: string[]) => {
    const result = await client.query(
      named('privacy.readSuppressions', {
        query:
          'SELECT identifier_hash, type, reason, erasure_id, active, toString(created_at) AS created_at FROM suppressions FINAL WHERE identifier_hash IN {hashes:Array(String)}',
        query_params: { hashes },
        format: 'JSONEachRow',
      }),
    );
    return result.json<SuppressionRow>();
  };

  const store: SuppressionStore = {
    hash: (identifier) => hashIdentifier(salt, identifier),
    async suppress(identifiers, reason, erasureId = '') {
      const hashed = new Map(identifiers.map((identifier) => [store.hash(identifier), identifier]));
      const already = new Set(
        (await rowsFor([...hashed.keys()])).filter((row) => Number(row.active) === 1).map((row) => row.identifier_hash),
      );
      const now = toClickHouseTime(Date.now());
      // An identifier suppressed already keeps its row: an erasure's suppression must not turn into a liftable one.
      const values = [...hashed]
        .filter(([hash]) => !already.has(hash))
        .map(([hash, identifier]) => ({
          identifier_hash: hash,
          type: identifier.type,
          reason,
          erasure_id: erasureId,
          active: 1,
          created_at: now,
          updated_at: now,
        }));
      if (values.length > 0)
        await client.insert(named('privacy.suppress', { table: 'suppressions', values, format: 'JSONEachRow' }));
      for (const hash of hashed.keys()) active.add(hash);
      return values.length;
    },
    async lift(identifier) {
      const hash = store.hash(identifier);
      const [row] = await rowsFor([hash]);
      // An erased customer stays suppressed: lifting it would let a replay of the log bring them back.
      if (!row || Number(row.active) !== 1 || row.reason !== 'request') return false;
      const now = Date.now();
      await client.insert(
        named('privacy.liftSuppression', {
          table: 'suppressions',
          values: [{ ...row, active: 0, updated_at: toClickHouseTime(now) }],
          format: 'JSONEachRow',
        }),
      );
      active.delete(hash);
      return true;
    },
    suppressed(identifiers) {
      if (active.size === 0) return false;
      return identifiers.some((identifier) => active.has(store.hash(identifier)));
    },
    async refresh() {
      const result = await client.query(
        named('privacy.readSuppressionsMark', {
          query: 'SELECT count() AS rows, toString(max(updated_at)) AS newest FROM suppressions',
          format: 'JSONEachRow',
        }),
      );
      const [state] = await result.json<{ rows: string; newest: string }>();
      const mark = `${state?.rows}/${state?.newest}`;
      if (mark === seen) return;
      const hashes = await client.query(
        named('privacy.readActiveSuppressions', {
          query: 'SELECT identifier_hash FROM suppressions FINAL WHERE active = 1',
          format: 'JSONEachRow',
        }),
      );
      active = new Set((await hashes.json<{ identifier_hash: string }>()).map((row) => row.identifier_hash));
      seen = mark;
    },
    size: () => active.size,
  };
  await store.refresh();
  return store;
}
