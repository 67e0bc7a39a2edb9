// Turns resolved events into ClickHouse rows (events, identities, merges, refusals) and inserts them.
import { writeIdentities, writeMerges } from '@cdp/profiles';
import { named, toClickHouseTime, type ClickHouseClient } from '@cdp/runtime';
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

export function eventRow(event: EventRecord, profileId: string) {
  return {
    message_id: event.messageId,
    profile_id: profileId,
    type: event.type,
    event: event.event ?? '',
    name: event.name ?? '',
    user_id: event.userId ?? '',
    anonymous_id: event.anonymousId ?? '',
    group_id: event.groupId ?? '',
    previous_id: event.previousId ?? '',
    timestamp: toClickHouseTime(event.timestamp),
    original_timestamp: event.originalTimestamp === null ? null : toClickHouseTime(event.originalTimestamp),
    sent_at: event.sentAt === null ? null : toClickHouseTime(event.sentAt),
    received_at: toClickHouseTime(event.receivedAt),
    channel: event.channel,
    source: event.source,
    properties: event.properties,
    traits: event.traits,
    context: event.context,
  };
}

/**
 * Writes the identity projections before the events, so a reader never sees an event whose profile it cannot map.
 * Every row is idempotent: a redelivered batch writes the same rows again, which the tables collapse.
 */
export async function writeResolved(client: ClickHouseClient, batch: ResolvedBatch): Promise<number> {
  const { version } = batch;
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
  await writeMerges(client, [...new Map(batch.merges.map((merge) => [merge.loserId, merge])).values()], version);
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
  if (batch.events.length > 0) {
    await client.insert(
      named('resolver.insertEvents', {
        table: 'events',
        values: batch.events.map(({ event, profileId }) => eventRow(event, profileId)),
        format: 'JSONEachRow',
      }),
    );
  }
  return batch.events.length;
}
