// Turns resolved events into ClickHouse rows (events, identities, merges, refusals) and inserts them.
import { writeIdentities, writeMerges } from '@cdp/profiles';
import {
  isStoreUnavailable,
  named,
  tabSeparated,
  toClickHouseTime,
  type ClickHouseClient,
  type TabSeparatedValue,
} from '@cdp/runtime';
import type { EventRecord, Identifier } from '@cdp/schemas';
import type { PendingMerge } from './graph';
import { identifierKey } from './identifiers';

export interface ResolvedEvent {
  event: EventRecord;
  profileId: string;
}

export interface ResolvedBatch {
  events: ResolvedEvent[];
  /** Each identifier of the batch with the profile it belongs to now. */
  identities: Array<{ identifier: Identifier; profileId: string }>;
  /** Absorbed profile ids whose survivor this process has not written yet; each is marked once ClickHouse has it. */
  merges: PendingMerge[];
  refusals: Array<{ messageId: string; identifiers: Identifier[]; reason: string }>;
  /** The link-log version the batch was resolved at. */
  version: number;
}

/** The `events` columns the resolver writes, in the order of `eventValues`; `inserted_at` takes its default. */
export const eventColumns = [
  'message_id',
  'profile_id',
  'type',
  'event',
  'name',
  'user_id',
  'anonymous_id',
  'group_id',
  'previous_id',
  'timestamp',
  'original_timestamp',
  'sent_at',
  'received_at',
  'channel',
  'source',
  'properties',
  'traits',
  'context',
] as const;

/** One `events` row, as values in the order of `eventColumns`. */
export function eventValues(event: EventRecord, profileId: string): TabSeparatedValue[] {
  return [
    event.messageId,
    profileId,
    event.type,
    event.event ?? '',
    event.name ?? '',
    event.userId ?? '',
    event.anonymousId ?? '',
    event.groupId ?? '',
    event.previousId ?? '',
    toClickHouseTime(event.timestamp),
    event.originalTimestamp === null ? null : toClickHouseTime(event.originalTimestamp),
    event.sentAt === null ? null : toClickHouseTime(event.sentAt),
    toClickHouseTime(event.receivedAt),
    event.channel,
    event.source,
    event.properties,
    event.traits,
    event.context,
  ];
}

/** Keeps, per key, the row of the highest version: the graph's later word on it. */
function latestBy<T extends { version: number }>(rows: Iterable<T>, keyOf: (row: T) => string): T[] {
  const latest = new Map<string, T>();
  for (const row of rows) {
    const key = keyOf(row);
    const kept = latest.get(key);
    if (!kept || row.version >= kept.version) latest.set(key, row);
  }
  return [...latest.values()];
}

/**
 * Writes resolved batches in one insert per table. Merges before the events, so a reader never sees an event whose
 * stored profile it cannot map to its survivor; identities after them, so a profile found by an identifier already
 * shows the batches' events (its stats and traits are views of them); refusals last, so a refusal on record means its
 * batch is all written. Each identity and merge row carries the graph version its batch was resolved at. Every row
 * is idempotent: a redelivered batch writes the same rows again, which the tables collapse.
 */
export async function writeResolved(client: ClickHouseClient, batches: ResolvedBatch[]): Promise<number> {
  const events = batches.flatMap((batch) => batch.events);
  const refusals = batches.flatMap((batch) => batch.refusals);
  await writeMerges(
    client,
    latestBy(
      batches.flatMap(({ merges, version }) =>
        merges.map(({ loserId, survivorId }) => ({ loserId, survivorId, version })),
      ),
      (merge) => merge.loserId,
    ),
  );
  if (events.length > 0) {
    await client.insert(
      named('resolver.insertEvents', {
        table: 'events',
        columns: [...eventColumns],
        // TabSeparated, not JSONEachRow: chDB parses it several times faster, and the JSON texts of properties,
        // traits and context pass through unescaped.
        format: 'TabSeparated',
        values: tabSeparated(events.map(({ event, profileId }) => eventValues(event, profileId))),
      }),
    );
  }
  await writeIdentities(
    client,
    latestBy(
      batches.flatMap(({ identities, version }) =>
        identities.map(({ identifier, profileId }) => ({
          type: identifier.type,
          value: identifier.value,
          profileId,
          version,
        })),
      ),
      (row) => identifierKey(row),
    ),
  );
  if (refusals.length > 0) {
    await client.insert(
      named('resolver.insertRefusals', {
        table: 'identity_refusals',
        values: refusals.map((refusal) => ({
          message_id: refusal.messageId,
          identifiers: refusal.identifiers.map(identifierKey),
          reason: refusal.reason,
        })),
        format: 'JSONEachRow',
      }),
    );
  }
  return events.length;
}

interface Waiting {
  batch: ResolvedBatch;
  resolve: (written: number) => void;
  reject: (error: unknown) => void;
}

/**
 * A group commit: each batch is written as soon as no write is in flight, together with every batch that arrived
 * while one was. The partitions of a consumer hand over batches side by side; each insert costs the same fixed work
 * (a part in `events` and in every table its views feed, merged later) however few rows it holds, so one insert of
 * six small batches costs far less than six. An idle resolver writes a lone batch at once: nothing waits for company.
 * Each batch's promise settles with its own event count once its rows are in; if a joint write fails for its data,
 * each of its batches is written again on its own, so a batch that cannot be written fails alone and the others go
 * on; if it fails because the store cannot answer, every batch of it fails at once.
 */
export function groupCommit(client: ClickHouseClient): (batch: ResolvedBatch) => Promise<number> {
  let waiting: Waiting[] = [];
  let writing = false;

  async function writeEach(group: Waiting[]): Promise<void> {
    for (const { batch, resolve, reject } of group) {
      await writeResolved(client, [batch]).then(resolve, reject);
    }
  }

  async function drain(): Promise<void> {
    writing = true;
    try {
      while (waiting.length > 0) {
        const group = waiting;
        waiting = [];
        try {
          await writeResolved(
            client,
            group.map((each) => each.batch),
          );
          for (const { batch, resolve } of group) resolve(batch.events.length);
        } catch (error) {
          // A store that cannot answer (down, unreachable, overloaded) fails every batch alike: writing each again
          // alone would only wait out its timeout once per batch.
          if (group.length === 1 || isStoreUnavailable(error)) for (const { reject } of group) reject(error);
          else await writeEach(group);
        }
      }
    } finally {
      writing = false;
    }
  }

  return (batch) =>
    new Promise<number>((resolve, reject) => {
      waiting.push({ batch, resolve, reject });
      if (!writing) void drain();
    });
}
