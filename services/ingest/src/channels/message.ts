// What every channel's mapping produces: Segment messages (plain JSON, validated by the ingest pipeline like any SDK's).
import { createHash } from 'node:crypto';
import { AppError } from '@cdp/runtime';
import { normalisePhone, type ChannelIdentifierType } from '@cdp/schemas';

export type JsonObject = Record<string, unknown>;

export const asObject = (value: unknown): JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};

/** A provider's id field as text: ids come as strings, or as numbers from providers that send them so. */
export function idOf(value: unknown): string | null {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** A stable messageId from the provider's own event id: a redelivery of the same event gets the same one. */
export function derivedMessageId(channel: string, ...parts: string[]): string {
  return `${channel}-${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32)}`;
}

export function invalidDelivery(message: string, path = ''): AppError {
  return new AppError('INVALID_REQUEST', message, [{ path, message }]);
}

/** Epoch milliseconds of a provider's time (ms since 1970 as a number or a numeric string), or a 400 naming the field. */
export function epochMsOf(value: unknown, path: string): number {
  const ms = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms <= 0)
    throw invalidDelivery(`${path} must be a time in milliseconds since 1970`, path);
  return ms;
}

/**
 * What every message of a channel carries: its stable messageId, the time, and the channel's user id twice: in
 * Segment's `context.externalIds` (the resolver links profiles by it) and as `anonymousId` `<prefix>:<id>` (Segment's
 * schema needs a userId or anonymousId, and one partition key keeps a customer's events in order).
 */
export function channelEnvelope(envelope: {
  idType: ChannelIdentifierType;
  userId: string | null;
  /** The anonymousId of an event about no user (the account's own), `<prefix>:<account>`. */
  accountId: string;
  messageId: string;
  timeMs: number;
  library: string;
}): JsonObject {
  const prefix = envelope.idType === 'zalo_id' ? 'zalo' : 'messenger';
  return {
    messageId: envelope.messageId,
    anonymousId: envelope.userId ? `${prefix}:${envelope.userId}` : `${prefix}-account:${envelope.accountId}`,
    timestamp: new Date(envelope.timeMs).toISOString(),
    context: {
      ...(envelope.userId
        ? { externalIds: [{ id: envelope.userId, type: envelope.idType, collection: 'users', encoding: 'none' }] }
        : {}),
      library: { name: envelope.library },
    },
  };
}

/**
 * A phone as a channel sends it, in E.164 where it can be: Zalo writes `84912345678` (country code, no plus), a
 * helpdesk may write `0912 345 678`; a number that starts with 0 is read as Vietnamese, the channels' home.
 */
export function channelPhone(value: unknown): string | null {
  const text = idOf(value);
  if (text === null) return null;
  if (text.startsWith('+') || text.startsWith('00')) return normalisePhone(text) ?? text;
  const digits = text.replace(/[\s().-]/g, '');
  if (!/^\d+$/.test(digits)) return text;
  return (digits.startsWith('0') ? normalisePhone(digits, 'VN') : normalisePhone(`+${digits}`)) ?? text;
}

/** An event of a type a channel's mapping does not know: kept, named after the channel, with the raw fields. */
export const genericEventName = (channelTitle: string, type: string) => `${channelTitle} ${type}`;
