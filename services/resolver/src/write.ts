// Turns decoded events into ClickHouse rows (events, identities) and inserts them as one batch each.
import { toClickHouseTime, type ClickHouseClient } from '@cdp/runtime';
import type { EventRecord } from '@cdp/schemas';
import { primaryIdentifier, profileIdOf } from './profile-id';

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
 * Writes a batch. Each event lands on the profile of its primary identifier, and that identifier is recorded as
 * resolving to it; a retried messageId writes the same row again, which the events table collapses.
 */
export async function writeEvents(client: ClickHouseClient, events: EventRecord[]): Promise<number> {
  const eventRows = [];
  const identityRows = new Map<string, { type: string; value: string; profile_id: string }>();
  for (const event of events) {
    const primary = primaryIdentifier(event);
    if (!primary) continue;
    const profileId = profileIdOf(primary);
    eventRows.push(eventRow(event, profileId));
    identityRows.set(`${primary.type}\u0000${primary.value}`, { type: primary.type, value: primary.value, profile_id: profileId });
  }
  if (eventRows.length > 0) await client.insert({ table: 'events', values: eventRows, format: 'JSONEachRow' });
  if (identityRows.size > 0) {
    await client.insert({ table: 'identities', values: [...identityRows.values()], format: 'JSONEachRow' });
  }
  return eventRows.length;
}
