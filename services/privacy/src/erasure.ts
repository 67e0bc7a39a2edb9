// Erasing a customer: every profile merged into them, from every table that holds them, and their identifiers suppressed.
import type { Logger } from 'pino';
import { identifiersOf, storedIdsOf } from '@cdp/profiles';
import { named, type ClickHouseClient } from '@cdp/runtime';
import type { Identifier, IdentifierType } from '@cdp/schemas';
import { createAudit, newAuditId, type AuditEntry, type AuditLog } from './audit';
import type { SuppressionStore } from './suppressions';

/**
 * Where each table holds a customer, as a condition on `{ids}` (the customer's profile ids, merged ones included) and
 * `{keys}` (their identifiers as `type:value`). A test lists every table ClickHouse has: each must be here or in
 * `withoutPersonalData`, so a new table cannot be forgotten.
 */
export const erasableTables: Record<string, string> = {
  events: 'profile_id IN {ids:Array(String)}',
  identities: "profile_id IN {ids:Array(String)} OR concat(type, ':', value) IN {keys:Array(String)}",
  profile_identifiers: "profile_id IN {ids:Array(String)} OR concat(type, ':', value) IN {keys:Array(String)}",
  profile_merges: 'loser_id IN {ids:Array(String)} OR survivor_id IN {ids:Array(String)}',
  identity_refusals: 'hasAny(identifiers, {keys:Array(String)})',
  profile_stats: 'profile_id IN {ids:Array(String)}',
  profile_traits: 'profile_id IN {ids:Array(String)}',
  profile_firsts: 'profile_id IN {ids:Array(String)}',
  profile_subscriptions: 'profile_id IN {ids:Array(String)}',
  touchpoints: 'profile_id IN {ids:Array(String)}',
  survivor_stats: 'profile_id IN {ids:Array(String)}',
  segment_membership: 'profile_id IN {ids:Array(String)}',
  segment_diffs: 'profile_id IN {ids:Array(String)}',
  segment_profiles: 'profile_id IN {ids:Array(String)}',
  // A delivery of an event found no profile until its first attempt: one erased before it holds only the event.
  destination_deliveries: 'profile_id IN {ids:Array(String)}',
  // Follow-ups and awaited events hold the event's identifiers until they are due; anniversaries hold the profile id.
  destination_timers: 'profile_id IN {ids:Array(String)} OR hasAny(identifiers, {keys:Array(String)})',
};

/**
 * Snapshot rows of the identity graph are masked, not deleted: a snapshot must keep its row count to be restored.
 * They hold pseudonyms, not identifiers (the suppression list keeps the same keyed hashes); what is masked is a node
 * first named in plaintext, whose row keeps the customer's profile id.
 */
export const maskedTables: Record<string, string> = {
  identity_snapshot_nodes: 'profile_id IN {ids:Array(String)}',
};

/** Tables that hold no personal data: keys (hashed), definitions, pass and evaluation markers, snapshot headers, migration records and the lock of the processes applying them, hashes, the audit. */
export const withoutPersonalData = [
  'api_keys',
  'segments',
  'segment_profile_passes',
  'segment_evaluations',
  'identity_snapshots',
  'schema_migrations',
  'schema_migrations_lock',
  'install_secrets',
  'suppressions',
  'privacy_audit',
  'destinations',
];

/** The identifier a masked snapshot node holds instead of the erased one. */
export const maskedType = 'erased';

export interface ErasureDeps {
  client: ClickHouseClient;
  suppressions: SuppressionStore;
  logger: Logger;
  /** How long resolvers get to see new suppressions before rows are deleted, and again before the sweep after it. */
  settleMs?: number;
}

export interface Erasures {
  /** Suppresses the customer's identifiers, then erases them in the background; returns the erasure's id. */
  start(survivorId: string, keyPrefix: string): Promise<string>;
  get(id: string): Promise<AuditEntry | null>;
  /** Resolves once every erasure this process started has ended. */
  idle(): Promise<void>;
}

const defaultSettleMs = 3000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The customer's profile ids (the survivor and every profile merged into it) and every identifier any of them had. */
async function customerOf(
  client: ClickHouseClient,
  survivorId: string,
): Promise<{ ids: string[]; identifiers: Identifier[] }> {
  const ids = await storedIdsOf(client, survivorId);
  const identifiers = (await identifiersOf(client, ids)).map(({ type, value }) => ({
    type: type as IdentifierType,
    value,
  }));
  return { ids, identifiers };
}

/**
 * How ClickHouse reports a mutation that failed on a part because the part was dropped while it was being rewritten:
 * error 341 (UNFINISHED) whose reason is the part's cancelled rewrite. Any other failure of a mutation (out of memory,
 * killed with KILL MUTATION, a bad expression) is not retried.
 */
const unfinishedMutation = '341';
const cancelledPart = /Cancelled mutating parts/;
const mutationAttempts = 5;

/**
 * Applies the mutation `query` and waits until it is done. The segments service drops whole passes (partitions) of
 * segment_profiles and segment_diffs as it goes; a drop fails the mutation on the part it was rewriting, and the wait
 * ends with that failure while ClickHouse goes on with the other parts. The same mutation is then issued again and
 * waited for: it changes the rows that are left (none of the dropped ones), after the first on every part.
 */
export async function mutate(client: ClickHouseClient, query: string, params: Record<string, unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.command(
        named('privacy.erase', { query, query_params: params, clickhouse_settings: { mutations_sync: '2' } }),
      );
      return;
    } catch (error) {
      const { code, message } = error as { code?: unknown; message?: unknown };
      const droppedPart = String(code) === unfinishedMutation && cancelledPart.test(String(message));
      if (!droppedPart || attempt === mutationAttempts) throw error;
      await sleep(50 * 2 ** attempt);
    }
  }
}

export function createErasures(deps: ErasureDeps): Erasures {
  const { client } = deps;
  const audit: AuditLog = createAudit(client);
  const settleMs = deps.settleMs ?? defaultSettleMs;
  const running = new Set<Promise<void>>();
  const logger = deps.logger.child({ component: 'erasure' });

  /** The rows of `table` that hold the customer, then `change` applied to them; an error names the table only. */
  async function apply(
    table: string,
    where: string,
    change: string,
    params: { ids: string[]; keys: string[] },
  ): Promise<number> {
    try {
      const result = await client.query(
        named('privacy.countErasable', {
          query: `SELECT count() AS rows FROM ${table} WHERE ${where}`,
          query_params: params,
          format: 'JSONEachRow',
        }),
      );
      const rows = Number((await result.json<{ rows: string }>())[0]?.rows ?? 0);
      if (rows > 0) await mutate(client, `ALTER TABLE ${table} ${change} WHERE ${where}`, params);
      return rows;
    } catch (error) {
      // ClickHouse's message quotes the query with its parameters (the customer's ids): only its code goes on.
      const code = (error as { code?: unknown }).code;
      throw new Error(
        `could not erase the customer from ${table}${code === undefined ? '' : ` (ClickHouse error ${String(code)})`}`,
      );
    }
  }

  /** Deletes the customer's rows from every table (masks them in snapshots); returns the rows each held. */
  async function eraseRows(params: { ids: string[]; keys: string[] }): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const [table, where] of Object.entries(erasableTables))
      counts[table] = await apply(table, where, 'DELETE', params);
    const masked = `UPDATE type = '${maskedType}', value = concat('${maskedType}:', toString(version), ':', toString(seq)), profile_id = ''`;
    for (const [table, where] of Object.entries(maskedTables))
      counts[table] = await apply(table, where, masked, params);
    return counts;
  }

  async function run(
    id: string,
    params: { ids: string[]; keys: string[] },
    counts: Record<string, number>,
  ): Promise<void> {
    try {
      // Resolvers read suppressions every second: once they have, no new row of this customer is written.
      await sleep(settleMs);
      const first = await eraseRows(params);
      // A batch a resolver had begun before it saw the suppressions may still have landed: sweep once more.
      await sleep(settleMs);
      const second = await eraseRows(params);
      const rows = Object.fromEntries(
        Object.keys(first).map((table) => [`rows.${table}`, (first[table] ?? 0) + (second[table] ?? 0)]),
      );
      await audit.update(id, { state: 'done', counts: { ...counts, ...rows } });
      logger.info({ erasure: id }, 'erasure done');
    } catch (error) {
      // Errors of `apply` name a table and a code, never the customer; anything else is reported by its kind only.
      const message =
        error instanceof Error && error.message.startsWith('could not erase')
          ? error.message
          : 'the erasure stopped on an unexpected error';
      logger.error({ erasure: id, reason: message }, 'erasure failed');
      await audit.update(id, { state: 'failed', error: message }).catch(() => undefined);
    }
  }

  return {
    async start(survivorId, keyPrefix) {
      const id = newAuditId('erasure');
      const { ids, identifiers } = await customerOf(client, survivorId);
      const counts = { profiles: ids.length, identifiers: identifiers.length };
      await audit.record({ id, action: 'erasure', keyPrefix, state: 'running', counts });
      // Suppressed before anything is deleted: from here on, the customer's events are dropped before a profile.
      await deps.suppressions.suppress(identifiers, 'erasure', id);
      const job = run(
        id,
        { ids, keys: identifiers.map((identifier) => `${identifier.type}:${identifier.value}`) },
        counts,
      ).finally(() => running.delete(job));
      running.add(job);
      return id;
    },
    get: (id) => audit.get(id),
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
