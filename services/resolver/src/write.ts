// Turns resolved events into ClickHouse rows (events, identities, merges, refusals) and inserts them.
import { writeIdentities, writeMerges } from '@cdp/profiles';
import { named, tabSeparated, toClickHouseTime, type ClickHouseClient, type TabSeparatedValue } from '@cdp/runtime';
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

/**
 * Writes merges before the events, so a reader never sees an event whose stored profile it cannot map to its
 * survivor; identities after them, so a profile found by an identifier already shows the batch's events (its stats
 * and traits are views of them); refusals last, so a refusal on record means its batch is all written. Every row is
 * idempotent: a redelivered batch writes the same rows again, which the tables collapse.
 */
export async function writeResolved(client: ClickHouseClient, batch: ResolvedBatch): Promise<number> {
  const { version } = batch;
  await writeMerges(client, [...new Map(batch.merges.map((merge) => [merge.loserId, merge])).values()], version);
  if (batch.events.length > 0) {
    await client.insert(
      named('resolver.insertEvents', {
        table: 'events',
        columns: [...eventColumns],
        // TabSeparated, not JSONEachRow: chDB parses it several times faster, and the JSON texts of properties,
        // traits and context pass through unescaped.
        format: 'TabSeparated',
        values: tabSeparated(batch.events.map(({ event, profileId }) => eventValues(event, profileId))),
      }),
    );
  }
  const identities = new Map(batch.identities.map((entry) => [identifierKey(entry.identifier), entry]));
  await writeIdentities(
    client,
    [...identities.values()].map(({ identifier, profileId }) => ({
      type: identifier.type,
      value: identifier.value,
      profileId,
    })),
    version,
  );
  if (batch.refusals.length > 0) {
    await client.insert(
      named('resolver.insertRefusals', {
        table: 'identity_refusals',
        values: batch.refusals.map((refusal) => ({
          message_id: refusal.messageId,
          identifiers: refusal.identifiers.map(identifierKey),
          reason: refusal.reason,
        })),
        format: 'JSONEachRow',
      }),
    );
  }
  return batch.events.length;
}
