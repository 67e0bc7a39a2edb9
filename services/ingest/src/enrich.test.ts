// Unit tests of enrichment: skew correction, channel defaults, generated message ids.
import { describe, expect, it } from 'vitest';
import { parseMessage } from '@cdp/schemas';
import { channelOf, correctedTimestamp, enrich, truncatedIp, withRequestContext } from './enrich';

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
  it('gives each event of one request its own stated context, and the request context to those that state none', () => {
    const request = { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)' };
    const messageOf = (item: Record<string, unknown>) => {
      const parsed = parseMessage({ userId: 'u1', ...item }, 'identify');
      if (!parsed.ok) throw new Error('fixture must be valid');
      return parsed.message;
    };
    const contextOf = (item: Record<string, unknown>, clientIp: 'keep' | 'drop' = 'keep') =>
      JSON.parse(enrich({ message: messageOf(item), receivedAt: 1, source: 's', request, clientIp }).context);
    const plain = contextOf({});
    expect(plain).toMatchObject({
      ip: '203.0.113.7',
      userAgent: request.userAgent,
      parsedUserAgent: { os: { name: 'iOS' } },
    });
    expect(contextOf({ context: { app: { name: 'Shop' } } })).toEqual({ app: { name: 'Shop' }, ...plain });
    expect(contextOf({})).toEqual(plain);
    expect(contextOf({}, 'drop')).not.toHaveProperty('ip');
    const batched = enrich({
      message: messageOf({}),
      receivedAt: 1,
      source: 's',
      request,
      batchContext: { locale: 'vi-VN' },
    });
    expect(JSON.parse(batched.context)).toEqual({ locale: 'vi-VN', ...plain });
  });

  it('keeps a client messageId and generates one when missing', () => {
    const parsed = parseMessage({ userId: 'u1', event: 'Signed Up', messageId: 'm-1' }, 'track');
    const other = parseMessage({ userId: 'u1', event: 'Signed Up' }, 'track');
    if (!parsed.ok || !other.ok) throw new Error('fixture must be valid');
    expect(enrich({ message: parsed.message, receivedAt: 1, source: 's' }).messageId).toBe('m-1');
    expect(enrich({ message: other.message, receivedAt: 1, source: 's' }).messageId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('withRequestContext', () => {
  const request = {
    ip: '192.0.2.1',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  };

  it('fills ip and userAgent from the request and parses the user agent', () => {
    const context = withRequestContext({ library: { name: 'analytics.js', version: '1.0.0' } }, request);
    expect(context).toMatchObject({
      ip: '192.0.2.1',
      userAgent: request.userAgent,
      library: { name: 'analytics.js', version: '1.0.0' },
    });
    expect(context.parsedUserAgent).toMatchObject({
      browser: { name: 'Chrome', version: '126.0.0.0' },
      os: { name: 'Linux' },
    });
  });

  it('keeps an ip and a user agent the SDK stated, and parses the stated one', () => {
    const context = withRequestContext(
      {
        ip: '198.51.100.2',
        userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
      },
      request,
    );
    expect(context.ip).toBe('198.51.100.2');
    expect(context.parsedUserAgent).toMatchObject({ browser: { name: 'Firefox' }, os: { name: 'Windows' } });
  });

  it('adds nothing when the request has neither', () => {
    expect(withRequestContext({}, { ip: null, userAgent: null })).toEqual({});
  });
});

describe('client IP', () => {
  const request = { ip: '203.0.113.77', userAgent: null };

  it("keeps, truncates to the network, or drops the address, the request's or one a server SDK stated", () => {
    expect(withRequestContext({}, request).ip).toBe('203.0.113.77');
    expect(withRequestContext({}, request, 'truncate').ip).toBe('203.0.113.0');
    expect(withRequestContext({ ip: '198.51.100.9' }, request, 'truncate').ip).toBe('198.51.100.0');
    expect('ip' in withRequestContext({ ip: '198.51.100.9' }, request, 'drop')).toBe(false);
    expect('ip' in withRequestContext({}, request, 'drop')).toBe(false);
  });

  it('cuts an IPv6 address to its first three groups, and a v4-mapped one as IPv4', () => {
    expect(truncatedIp('2001:db8:85a3:8d3:1319:8a2e:370:7348')).toBe('2001:db8:85a3::');
    expect(truncatedIp('2001:db8::1')).toBe('2001:db8:0::');
    expect(truncatedIp('::ffff:192.0.2.128')).toBe('192.0.2.0');
    expect(truncatedIp('::1')).toBe('0:0:0::');
  });
});
