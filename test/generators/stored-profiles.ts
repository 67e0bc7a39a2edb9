// Profiles written straight into ClickHouse's events and profile_merges (no ingest, no resolver) for segment tests.
import { named, toClickHouseTime, type ClickHouseClient } from '@cdp/runtime';
import type { StoredMessage } from '../reference/segment-rules';
import { rng } from './customers';

export interface StoredProfiles {
  messages: StoredMessage[];
  /** Absorbed stored profile id → survivor. */
  merges: Map<string, string>;
  now: number;
}

/** The string every injection test hides in a trait, a property and an event name. */
export const hostileText = `a'b"c\\d--e/*f*/{p0:String}{now:DateTime64(3, 'UTC')}; DROP TABLE events; é😀\u0000\u202e`;

/**
 * `profiles` customers over the 60 days before `now` (and up to 2 days after it, as clients' clocks may run ahead),
 * every ninth 120 days earlier (churned): identifies with typed traits, orders on several channels (some stored twice,
 * as a retry on the merged profile would be), surveys, tickets, product views. Every fourth profile is split over two
 * stored ids that were merged later.
 */
export function generateStoredProfiles(options: { profiles: number; seed: number; prefix: string }): StoredProfiles {
  const random = rng(options.seed);
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)] as T;
  const now = Date.parse('2025-03-01T00:00:00.000Z');
  const start = now - 60 * 86_400_000;
  const messages: StoredMessage[] = [];
  const merges = new Map<string, string>();
  let count = 0;
  for (let index = 0; index < options.profiles; index += 1) {
    const survivor = `${options.prefix}-p${index}`;
    const stored = [survivor];
    if (index % 4 === 1) {
      stored.push(`${survivor}-anon`);
      merges.set(`${survivor}-anon`, survivor);
    }
    const emit = (
      type: string,
      event: string,
      properties: Record<string, unknown>,
      traits: Record<string, unknown> = {},
    ) => {
      const timestamp = start - (index % 9 === 8 ? 120 * 86_400_000 : 0) + Math.floor(random() * 62 * 86_400_000);
      const message: StoredMessage = {
        messageId: `${survivor}-m${count++}`,
        storedId: pick(stored),
        type,
        event,
        timestamp,
        receivedAt: timestamp + 1000,
        channel: typeof properties.channel === 'string' ? properties.channel : 'unknown',
        properties,
        traits,
      };
      messages.push(message);
      if (random() < 0.05) messages.push({ ...message, storedId: pick(stored) });
    };
    const traits: Record<string, unknown> = {
      plan: pick(['free', 'pro', 'team']),
      age: 18 + Math.floor(random() * 50),
    };
    if (random() < 0.6) traits.vip = random() < 0.5;
    if (random() < 0.7) traits.signedUpAt = new Date(start - Math.floor(random() * 200 * 86_400_000)).toISOString();
    if (random() < 0.2) traits.nickname = null;
    if (index === 3) traits.nickname = hostileText;
    emit('identify', '', {}, traits);
    if (random() < 0.3) emit('identify', '', {}, { plan: pick(['free', 'pro', 'team']) });
    const orders = Math.floor(random() * 5);
    for (let order = 0; order < orders; order += 1) {
      emit('track', 'Order Completed', {
        [random() < 0.3 ? 'total' : 'revenue']: Math.round(random() * 20_000) / 100,
        channel: pick(['web', 'app', 'store']),
      });
    }
    for (let view = Math.floor(random() * 6); view > 0; view -= 1) {
      emit('track', 'Product Viewed', {
        category: pick(['shoes', 'bags', hostileText]),
        price: Math.round(random() * 100),
        channel: pick(['web', 'app']),
      });
    }
    if (random() < 0.6)
      emit('track', 'Survey Responded', { survey: pick(['nps', 'csat']), score: Math.floor(random() * 11) });
    if (random() < 0.4) emit('track', 'Ticket Opened', { ticket_id: `${survivor}-t`, channel: 'email' });
    if (random() < 0.2) emit('track', 'Ticket Resolved', { ticket_id: `${survivor}-t` });
    if (index % 7 === 0) emit('track', hostileText, { channel: 'chat' });
    emit('page', '', { channel: pick(['web', 'app']) });
  }
  return { messages, merges, now };
}

/** Inserts the merges and messages; with `writtenAt` (epoch ms), stamped as written then instead of now. */
export async function insertStoredProfiles(
  client: ClickHouseClient,
  data: Pick<StoredProfiles, 'messages' | 'merges'>,
  writtenAt?: number,
): Promise<void> {
  const stamp = (column: string) => (writtenAt === undefined ? {} : { [column]: toClickHouseTime(writtenAt) });
  if (data.merges.size > 0) {
    await client.insert(
      named('test.insertMerges', {
        table: 'profile_merges',
        values: [...data.merges].map(([loser, survivor]) => ({
          loser_id: loser,
          survivor_id: survivor,
          version: 1,
          ...stamp('updated_at'),
        })),
        format: 'JSONEachRow',
      }),
    );
  }
  await client.insert(
    named('test.insertEvents', {
      table: 'events',
      values: data.messages.map((message) => ({
        message_id: message.messageId,
        profile_id: message.storedId,
        type: message.type,
        event: message.event,
        name: '',
        user_id: '',
        anonymous_id: '',
        group_id: '',
        previous_id: '',
        timestamp: toClickHouseTime(message.timestamp),
        original_timestamp: null,
        sent_at: null,
        received_at: toClickHouseTime(message.receivedAt),
        channel: message.channel,
        source: 'test',
        properties: JSON.stringify(message.properties),
        traits: JSON.stringify(message.traits),
        context: '{}',
        ...stamp('inserted_at'),
      })),
      format: 'JSONEachRow',
    }),
  );
}
