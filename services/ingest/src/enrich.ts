// Enrichment of a validated message into the event the log carries: ids, times (skew-corrected), channel.
import { randomUUID } from 'node:crypto';
import { statedChannels, type EventRecord, type Message } from '@cdp/schemas';
import { parseUserAgent } from './useragent';

const channels = new Set<string>(statedChannels);

type JsonObject = Record<string, unknown>;

const asObject = (value: unknown): JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};

const withTime = /[T ]\d{2}:\d{2}/i;
const withOffset = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/** Epoch ms of an ISO-8601 time; a date-time without an offset is UTC, whatever zone this host runs in. */
export function epoch(value: string | null | undefined): number | null {
  if (!value) return null;
  return Date.parse(withTime.test(value) && !withOffset.test(value) ? `${value.replace(' ', 'T')}Z` : value);
}

/** The touchpoint channel: `properties.channel` when it is a known one, else what the SDK context says. */
export function channelOf(properties: JsonObject, context: JsonObject): string {
  const stated = properties.channel;
  if (typeof stated === 'string' && channels.has(stated.toLowerCase())) return stated.toLowerCase();
  const library = asObject(context.library);
  const libraryName = typeof library.name === 'string' ? library.name.toLowerCase() : '';
  const device = asObject(context.device);
  const os = asObject(context.os);
  if (
    Object.keys(asObject(context.app)).length > 0 ||
    ['ios', 'android'].includes(String(device.type ?? os.name ?? '').toLowerCase())
  ) {
    return 'app';
  }
  if (
    libraryName.includes('analytics.js') ||
    libraryName.includes('analytics-next') ||
    Object.keys(asObject(context.page)).length > 0
  ) {
    return 'web';
  }
  return 'unknown';
}

/**
 * Segment's clock-skew correction: the client's clock may be off, but the time between its `timestamp` and its
 * `sentAt` is right, so the event happened that long before we received it.
 */
export function correctedTimestamp(receivedAt: number, timestamp: number | null, sentAt: number | null): number {
  if (timestamp === null) return receivedAt;
  if (sentAt === null) return timestamp;
  return receivedAt - (sentAt - timestamp);
}

/** What the HTTP request itself tells about the sender. */
export interface RequestContext {
  /** The client address (X-Forwarded-For is believed only from trusted proxies). */
  ip: string | null;
  userAgent: string | null;
}

/**
 * Segment's server-side context: `ip` and `userAgent` from the request unless the SDK stated them (a server SDK
 * forwarding for its users does), plus the user agent parsed. The parse lives in its own key so that a phone's
 * browser is not mistaken for an app by `channelOf`.
 */
/** What is kept of a client's IP address: all of it, its network only (IPv4 /24, IPv6 /48), or nothing. */
export type ClientIpPolicy = 'keep' | 'truncate' | 'drop';

/** The network part of an address: the last IPv4 octet zeroed, an IPv6 address cut to its first three groups. */
export function truncatedIp(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}$/i.exec(ip);
  if (v4) return `${v4[1]}.0`;
  if (ip.includes(':')) {
    const [head = '', tail] = ip.split('::');
    const groups = head.split(':').filter(Boolean);
    const full =
      tail === undefined
        ? groups
        : [
            ...groups,
            ...Array<string>(Math.max(0, 8 - groups.length - tail.split(':').filter(Boolean).length)).fill('0'),
          ];
    return `${full.slice(0, 3).join(':')}::`;
  }
  return '';
}

export function withRequestContext(
  context: JsonObject,
  request: RequestContext,
  clientIp: ClientIpPolicy = 'keep',
): JsonObject {
  // Filled in place: the caller passes the fresh object it merged for this event.
  const enriched = context;
  if (typeof enriched.ip !== 'string' && request.ip) enriched.ip = request.ip;
  // Whoever stated it (the request, or a server SDK forwarding for its user), the address is kept as configured.
  if (typeof enriched.ip === 'string' && clientIp !== 'keep') {
    if (clientIp === 'drop') delete enriched.ip;
    else enriched.ip = truncatedIp(enriched.ip);
  }
  if (typeof enriched.userAgent !== 'string' && request.userAgent) enriched.userAgent = request.userAgent;
  if (typeof enriched.userAgent === 'string' && enriched.userAgent)
    enriched.parsedUserAgent = parseUserAgent(enriched.userAgent);
  return enriched;
}

interface EnrichedContext {
  context: JsonObject;
  contextJson: string;
}

/** The context of events that state none, per request and IP policy: the same for every event of a batch. */
const requestOnlyContexts = new WeakMap<RequestContext, { clientIp: ClientIpPolicy | undefined } & EnrichedContext>();

const isEmpty = (value: JsonObject) => {
  for (const key in value) if (Object.hasOwn(value, key)) return false;
  return true;
};

function contextOf(
  stated: unknown,
  batchContext: JsonObject | null | undefined,
  request: RequestContext | undefined,
  clientIp: ClientIpPolicy | undefined,
): EnrichedContext {
  const own = asObject(stated);
  const shared = asObject(batchContext);
  if (request && isEmpty(own) && isEmpty(shared)) {
    const known = requestOnlyContexts.get(request);
    if (known && known.clientIp === clientIp) return known;
    const context = withRequestContext({}, request, clientIp);
    const made = { clientIp, context, contextJson: JSON.stringify(context) };
    requestOnlyContexts.set(request, made);
    return made;
  }
  const merged = { ...shared, ...own };
  const context = request ? withRequestContext(merged, request, clientIp) : merged;
  return { context, contextJson: JSON.stringify(context) };
}

export interface EnrichInput {
  message: Message;
  receivedAt: number;
  source: string;
  request?: RequestContext;
  /** What is kept of the client's IP address (default: all of it). */
  clientIp?: ClientIpPolicy;
  /** Batch-level values the item inherits when it has none of its own. */
  batchSentAt?: string | null;
  batchContext?: JsonObject | null;
}

export function enrich({
  message,
  receivedAt,
  source,
  request,
  clientIp,
  batchSentAt,
  batchContext,
}: EnrichInput): EventRecord {
  const properties = asObject('properties' in message ? message.properties : undefined);
  const traits = asObject('traits' in message ? message.traits : undefined);
  const { context, contextJson } = contextOf(message.context, batchContext, request, clientIp);
  const original = epoch(message.timestamp ?? message.originalTimestamp);
  const sentAt = epoch(message.sentAt ?? batchSentAt);
  return {
    messageId: message.messageId ?? randomUUID(),
    type: message.type,
    userId: message.userId ?? null,
    anonymousId: message.anonymousId ?? null,
    event: message.type === 'track' ? message.event : null,
    name: message.type === 'page' || message.type === 'screen' ? (message.name ?? null) : null,
    groupId: message.type === 'group' ? message.groupId : null,
    previousId: message.type === 'alias' ? message.previousId : null,
    timestamp: correctedTimestamp(receivedAt, original, sentAt),
    originalTimestamp: original,
    sentAt,
    receivedAt,
    channel: channelOf(properties, context),
    source,
    properties: JSON.stringify(properties),
    traits: JSON.stringify(traits),
    context: contextJson,
  };
}

/** Events of one device stay in order: the key is the device's anonymousId, else the userId. */
export function partitionKey(event: EventRecord): string {
  return event.anonymousId ?? event.userId ?? event.messageId;
}
