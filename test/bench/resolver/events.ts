// The bench's traffic: the generated multi-channel customer base, as tracking API messages and as the events ingest would append.
import type { EventRecord } from '@cdp/schemas';
import { generateCustomers } from '../../generators/customers';

type Message = Record<string, unknown>;

const asObject = (value: unknown): Message =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Message) : {};
const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** What a server-side SDK and ingest's enrichment put into every event's context. */
const sdkContext = {
  library: { name: 'analytics-node', version: '3.1.0' },
  ip: '127.0.0.1',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
};

/**
 * `count` messages of customers who browse anonymously, log in (identify with email and phone), buy online and in
 * store: several per customer, so identifiers link and profiles merge. About 3% are deliveries of the same messageId.
 */
export function customerMessages(count: number, prefix: string): Message[] {
  // About 25 messages per customer; a few more customers than needed, then cut to the count.
  const { messages } = generateCustomers({ customers: Math.ceil(count / 20) + 1, seed: 11, prefix });
  return messages.slice(0, count);
}

/** The event ingest would append for this message (see services/ingest/src/enrich.ts), without the HTTP request. */
export function toEventRecord(message: Message, receivedAt: number): EventRecord {
  const properties = asObject(message.properties);
  const timestamp = typeof message.timestamp === 'string' ? Date.parse(message.timestamp) : receivedAt;
  return {
    messageId: String(message.messageId),
    type: String(message.type),
    userId: stringOrNull(message.userId),
    anonymousId: stringOrNull(message.anonymousId),
    event: stringOrNull(message.event),
    name: stringOrNull(message.name),
    groupId: null,
    previousId: stringOrNull(message.previousId),
    timestamp,
    originalTimestamp: timestamp,
    sentAt: null,
    receivedAt,
    channel: typeof properties.channel === 'string' ? properties.channel : 'unknown',
    source: 'bench',
    properties: JSON.stringify(properties),
    traits: JSON.stringify(asObject(message.traits)),
    context: JSON.stringify({ ...sdkContext, ...asObject(message.context) }),
  };
}

/** The partition key ingest uses: events of one device stay in order. */
export const partitionKeyOf = (event: EventRecord): string => event.anonymousId ?? event.userId ?? event.messageId;
