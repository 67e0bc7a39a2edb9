// A profile's timeline: its events newest first, in cursor pages that stay stable while new events arrive.
import { storedIdsOf } from '@cdp/profiles';
import { fromClickHouseTime, named, type ClickHouseClient } from '@cdp/runtime';

/** The profile's events, each messageId once, however often and on whichever of its stored ids it was stored. */
const profileEvents = `(SELECT * FROM events WHERE profile_id IN {profileIds:Array(String)} ORDER BY inserted_at LIMIT 1 BY message_id)`;

export interface TimelinePage {
  events: Array<Record<string, unknown>>;
  nextCursor: string | null;
}

export interface Cursor {
  timestamp: string;
  messageId: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.timestamp, cursor.messageId])).toString('base64url');
}

/** The cursor a previous page handed out, or null when it is not one of ours. */
export function decodeCursor(text: string): Cursor | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === 'string')) {
      const [timestamp, messageId] = value as [string, string];
      // A real time only: the text must come back unchanged from the instant it names (no month 13, no 25 o'clock).
      const match = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d{1,3})?$/.exec(timestamp);
      const instant = match ? new Date(`${match[1]}T${match[2]}${match[3] ?? ''}Z`) : null;
      if (
        match &&
        instant &&
        !Number.isNaN(instant.getTime()) &&
        instant.toISOString().startsWith(`${match[1]}T${match[2]}`)
      )
        return { timestamp, messageId };
    }
  } catch {
    // fall through: not a cursor
  }
  return null;
}

const timelineQuery = `
  SELECT message_id, type, event, name, toString(timestamp) AS ts, channel, source, properties, traits, context
  FROM ${profileEvents}
  WHERE {after:UInt8} = 0
     OR timestamp < {ts:DateTime64(3, 'UTC')}
     OR (timestamp = {ts:DateTime64(3, 'UTC')} AND message_id < {messageId:String})
  ORDER BY timestamp DESC, message_id DESC
  LIMIT {limit:UInt32}`;

interface TimelineRow {
  message_id: string;
  type: string;
  event: string;
  name: string;
  ts: string;
  channel: string;
  source: string;
  properties: string;
  traits: string;
  context: string;
}

const parse = (json: string): unknown => {
  try {
    return JSON.parse(json);
  } catch {
    return {};
  }
};

export async function readTimeline(
  client: ClickHouseClient,
  profileId: string,
  limit: number,
  cursor: Cursor | null,
): Promise<TimelinePage> {
  const profileIds = await storedIdsOf(client, profileId);
  const result = await client.query(
    named('queryApi.readTimeline', {
      query: timelineQuery,
      query_params: {
        profileIds,
        after: cursor ? 1 : 0,
        ts: cursor?.timestamp ?? '1970-01-01 00:00:00.000',
        messageId: cursor?.messageId ?? '',
        limit: limit + 1,
      },
      format: 'JSONEachRow',
    }),
  );
  const rows = await result.json<TimelineRow>();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    events: page.map((row) => ({
      messageId: row.message_id,
      type: row.type,
      ...(row.event ? { event: row.event } : {}),
      ...(row.name ? { name: row.name } : {}),
      timestamp: new Date(fromClickHouseTime(row.ts)).toISOString(),
      channel: row.channel,
      source: row.source,
      properties: parse(row.properties),
      traits: parse(row.traits),
      context: parse(row.context),
    })),
    nextCursor: rows.length > limit && last ? encodeCursor({ timestamp: last.ts, messageId: last.message_id }) : null,
  };
}
