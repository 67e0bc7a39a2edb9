// The identifiers of an event (channel user ids among them), and which name nobody: placeholder emails and phones.
import { describe, expect, it } from 'vitest';
import { encodeEvent, sourceTrustHeader, untrustedSource, type EventRecord } from '@cdp/schemas';
import { decodeAll } from './decode';
import { blocklist, identifiersOf } from './identifiers';

describe('blocklist', () => {
  const blocked = blocklist([' KhongCo@CuaHang.vn ', '+84 90 000 1111']);

  it('blocks the placeholder emails a till puts in, and keeps real ones', () => {
    for (const value of [
      'noemail@store.com',
      'no-email@shop.vn',
      'none@example.com',
      'unknown@cuahang.vn',
      'noreply@brand.vn',
    ]) {
      expect(blocked({ type: 'email', value }), value).toBe(true);
    }
    for (const value of ['ada@example.com', 'noemail.ada@example.com', 'nonexistent@x.vn'])
      expect(blocked({ type: 'email', value }), value).toBe(false);
  });

  it('blocks phones of one repeated digit and the configured values, normalised, and never a userId or anonymous id', () => {
    expect(blocked({ type: 'phone', value: '+84000000000' })).toBe(true);
    expect(blocked({ type: 'phone', value: '+11111111111' })).toBe(true);
    expect(blocked({ type: 'phone', value: '+84912345678' })).toBe(false);
    expect(blocked({ type: 'email', value: 'khongco@cuahang.vn' })).toBe(true);
    expect(blocked({ type: 'phone', value: '+84900001111' })).toBe(true);
    expect(blocked({ type: 'user_id', value: 'noemail@store.com' })).toBe(false);
    expect(blocked({ type: 'anonymous_id', value: '00000000' })).toBe(false);
  });
});

describe('channel user ids', () => {
  const event = (context: object): EventRecord => ({
    messageId: 'm-1',
    type: 'identify',
    userId: null,
    anonymousId: 'zalo:z-1',
    event: null,
    name: null,
    groupId: null,
    previousId: null,
    timestamp: 1_740_821_400_000,
    originalTimestamp: null,
    sentAt: null,
    receivedAt: 1_740_821_400_000,
    channel: 'unknown',
    source: 'zalo',
    properties: '{}',
    traits: JSON.stringify({ phone: '+84912345678' }),
    context: JSON.stringify(context),
  });
  const channelEvent = event({
    externalIds: [
      { id: 'z-1', type: 'zalo_id', collection: 'users', encoding: 'none' },
      { id: 4242, type: 'messenger_psid' },
      { id: 'c-1', type: 'crm_id' },
      { id: '', type: 'zalo_id' },
    ],
  });

  it('reads zalo_id and messenger_psid from context.externalIds, between the phone and the anonymous id', () => {
    expect(identifiersOf(channelEvent)).toEqual([
      { type: 'phone', value: '+84912345678' },
      { type: 'zalo_id', value: 'z-1' },
      { type: 'messenger_psid', value: '4242' },
      { type: 'anonymous_id', value: 'zalo:z-1' },
    ]);
    expect(identifiersOf(event({ externalIds: 'z-1' }))).toHaveLength(2);
  });

  it('links by them only for a trusted source, as by emails and phones', () => {
    const record = (headers: Record<string, string>) => ({
      topic: 'events',
      partition: 0,
      offset: '0',
      key: 'zalo:z-1',
      value: encodeEvent(channelEvent),
      headers,
      timestamp: 0,
    });
    const linked = (headers: Record<string, string>) =>
      decodeAll([record(headers)]).events[0]?.identifiers.map((identifier) => identifier.type);
    expect(linked({})).toEqual(['phone', 'zalo_id', 'messenger_psid', 'anonymous_id']);
    expect(linked({ [sourceTrustHeader]: untrustedSource })).toEqual(['anonymous_id']);
  });
});
