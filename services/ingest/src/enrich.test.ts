// Unit tests of enrichment: skew correction, channel defaults, generated message ids.
import { describe, expect, it } from 'vitest';
import { parseMessage } from '@cdp/schemas';
import { channelOf, correctedTimestamp, enrich } from './enrich';

describe('correctedTimestamp', () => {
  it('moves the event by the client clock skew measured through sentAt', () => {
    // The client clock runs 10 minutes fast: it says sent at 12:10, we received at 12:00:01.
    const timestamp = Date.parse('2024-05-01T12:09:00Z');
    const sentAt = Date.parse('2024-05-01T12:10:00Z');
    const receivedAt = Date.parse('2024-05-01T12:00:01Z');
    expect(new Date(correctedTimestamp(receivedAt, timestamp, sentAt)).toISOString()).toBe('2024-05-01T11:59:01.000Z');
  });

  it('keeps the client timestamp without sentAt and uses receivedAt without either', () => {
    expect(correctedTimestamp(5000, 1000, null)).toBe(1000);
    expect(correctedTimestamp(5000, null, null)).toBe(5000);
  });
});

describe('channelOf', () => {
  it('takes a known properties.channel and lower-cases it', () => {
    expect(channelOf({ channel: 'Store' }, {})).toBe('store');
  });

  it('falls back to the SDK context: browser is web, mobile is app, server is unknown', () => {
    expect(channelOf({}, { library: { name: 'analytics.js' } })).toBe('web');
    expect(channelOf({ channel: 'carrier pigeon' }, { app: { name: 'Shop' }, device: { type: 'ios' } })).toBe('app');
    expect(channelOf({}, { library: { name: 'analytics-node' } })).toBe('unknown');
  });
});

describe('enrich', () => {
  it('keeps a client messageId and generates one when missing', () => {
    const parsed = parseMessage({ userId: 'u1', event: 'Signed Up', messageId: 'm-1' }, 'track');
    const other = parseMessage({ userId: 'u1', event: 'Signed Up' }, 'track');
    if (!parsed.ok || !other.ok) throw new Error('fixture must be valid');
    expect(enrich({ message: parsed.message, receivedAt: 1, source: 's' }).messageId).toBe('m-1');
    expect(enrich({ message: other.message, receivedAt: 1, source: 's' }).messageId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
