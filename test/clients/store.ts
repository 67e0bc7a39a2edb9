// Reads back what reached ClickHouse: stored rows per messageId, counted straight from the events table.
import { counterOf, eventsHandled } from '../harness/http';
import { sendDemo } from '@cdp/cdp/demo';
import { named, waitFor } from '@cdp/runtime';
import type { TestPlatform } from '../harness/platform';

/** Rows of the events table per messageId (no FINAL: a message delivered twice would show as 2). */
export async function storedCounts(cdp: TestPlatform, messageIds: string[]): Promise<Map<string, number>> {
  const result = await cdp.platform.clickhouse.client.query(
    named('test.storedCounts', {
      query:
        'SELECT message_id, toUInt32(count()) AS n FROM events WHERE message_id IN {ids:Array(String)} GROUP BY message_id',
      query_params: { ids: messageIds },
      format: 'JSONEachRow',
    }),
  );
  const rows = await result.json<{ message_id: string; n: number }>();
  return new Map(rows.map((row) => [row.message_id, Number(row.n)]));
}

/** Waits until every expected messageId is stored, then returns the counts of those and of any unexpected ones. */
export async function waitForStored(
  cdp: TestPlatform,
  expected: string[],
  unexpected: string[] = [],
): Promise<Map<string, number>> {
  await waitFor(
    async () => {
      const counts = await storedCounts(cdp, expected);
      return expected.every((id) => counts.has(id));
    },
    { timeoutMs: 30_000, what: `${expected.length} messages to be stored` },
  );
  return storedCounts(cdp, [...expected, ...unexpected]);
}

export interface StoredMessage {
  message_id: string;
  type: string;
  user_id: string;
  anonymous_id: string;
  /** Milliseconds since the epoch: the skew-corrected time, and the time as the client sent it. */
  timestamp: number;
  original_timestamp: number | null;
  library: string;
}

/** Every stored row of these messages (a message stored twice shows twice), with its identifiers and times. */
export async function storedMessages(cdp: TestPlatform, messageIds: string[]): Promise<StoredMessage[]> {
  const result = await cdp.platform.clickhouse.client.query(
    named('test.storedMessageRows', {
      query: `SELECT message_id, type, user_id, anonymous_id,
          toUnixTimestamp64Milli(timestamp) AS timestamp,
          toUnixTimestamp64Milli(original_timestamp) AS original_timestamp,
          JSONExtractString(context, 'library', 'name') AS library
        FROM events WHERE message_id IN {ids:Array(String)}`,
      query_params: { ids: messageIds },
      format: 'JSONEachRow',
    }),
  );
  const rows = await result.json<StoredMessage>();
  return rows.map((row) => ({
    ...row,
    timestamp: Number(row.timestamp),
    original_timestamp: row.original_timestamp === null ? null : Number(row.original_timestamp),
  }));
}

/** The stored context of one message, parsed. */
export async function storedContext(cdp: TestPlatform, messageId: string): Promise<Record<string, unknown>> {
  const result = await cdp.platform.clickhouse.client.query(
    named('test.storedContext', {
      query: 'SELECT context FROM events WHERE message_id = {id:String} LIMIT 1',
      query_params: { id: messageId },
      format: 'JSONEachRow',
    }),
  );
  const rows = await result.json<{ context: string }>();
  if (!rows[0]) throw new Error(`message ${messageId} is not stored`);
  return JSON.parse(rows[0].context) as Record<string, unknown>;
}

/** Sends a demo customer base through the tracking API and waits until the resolver stored every message of it. */
export async function loadDemo(
  cdp: TestPlatform,
  options: { customers: number; months: number; seed: number },
): Promise<{ messages: number }> {
  const sent = await sendDemo({ url: cdp.url, writeKey: cdp.writeKey, ...options });
  const stored = async () => {
    const result = await cdp.platform.clickhouse.client.query(
      named('test.storedMessages', {
        query: 'SELECT uniqExact(message_id) AS stored FROM events',
        format: 'JSONEachRow',
      }),
    );
    return Number((await result.json<{ stored: string | number }>())[0]?.stored ?? 0);
  };
  await waitFor(async () => (await stored()) === sent.messages, {
    timeoutMs: 60_000,
    what: `${sent.messages} demo messages stored`,
  });
  // And the resolver has finished their batches: each writes its identities after its events, and counts its
  // profile changes once it has published them.
  await waitFor(async () => (await eventsHandled(cdp.url)) >= sent.messages, {
    timeoutMs: 60_000,
    what: `${sent.messages} demo messages handled by the resolver`,
  });
  // And segments have followed every profile those messages changed, so sizes move only with full passes from here.
  if (cdp.config.segmentsFollow) {
    await waitFor(
      async () =>
        (await counterOf(cdp.url, 'cdp_segments_profile_changes_read_total')) >=
        (await counterOf(cdp.url, 'cdp_resolver_profile_changes_total')),
      { timeoutMs: 120_000, what: 'segments to follow every changed profile' },
    );
  }
  return { messages: sent.messages };
}
