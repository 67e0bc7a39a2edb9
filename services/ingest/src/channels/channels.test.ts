import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { helpdeskMessage, parseHelpdeskEvent } from './helpdesk';
import { channelPhone } from './message';
import { messengerDelivery } from './messenger';
import { validHubSignature, validZaloSignature } from './signatures';
import { zaloMessage } from './zalo';

const zalo = { appId: '360846524940903967', oaSecret: 'oa-secret-key' };

describe('channel signatures', () => {
  const body = '{"event_name":"user_send_text","timestamp":"1740821400000","note":"Đơn hàng"}';

  it('accepts Zalo mac=sha256(app id + body + timestamp + OA secret) and refuses anything else', () => {
    const mac = createHash('sha256').update(`${zalo.appId}${body}1740821400000${zalo.oaSecret}`, 'utf8').digest('hex');
    const raw = Buffer.from(body);
    expect(validZaloSignature(zalo, raw, '1740821400000', `mac=${mac}`)).toBe(true);
    expect(validZaloSignature(zalo, raw, '1740821400000', mac)).toBe(true);
    expect(validZaloSignature(zalo, raw, '1740821400001', `mac=${mac}`)).toBe(false);
    expect(validZaloSignature({ ...zalo, oaSecret: 'other' }, raw, '1740821400000', `mac=${mac}`)).toBe(false);
    expect(validZaloSignature(zalo, Buffer.from(body.replace('Đơn', 'Don')), '1740821400000', `mac=${mac}`)).toBe(
      false,
    );
    expect(validZaloSignature(zalo, raw, '1740821400000', 'mac=zz')).toBe(false);
  });

  it('accepts Messenger sha256=<HMAC of the raw body under the app secret> and refuses anything else', () => {
    const digest = createHmac('sha256', 'app-secret').update(body, 'utf8').digest('hex');
    expect(validHubSignature('app-secret', Buffer.from(body), `sha256=${digest}`)).toBe(true);
    expect(validHubSignature('other-secret', Buffer.from(body), `sha256=${digest}`)).toBe(false);
    expect(validHubSignature('app-secret', Buffer.from(`${body} `), `sha256=${digest}`)).toBe(false);
    expect(validHubSignature('app-secret', Buffer.from(body), '')).toBe(false);
  });
});

describe('Zalo events as messages', () => {
  const base = { app_id: zalo.appId, timestamp: '1740821400000', recipient: { id: 'oa-1' } };

  it('maps a text from a follower to Message Received, named by its zalo_id and a messageId from msg_id', () => {
    const body = {
      ...base,
      event_name: 'user_send_text',
      sender: { id: 'z-1' },
      message: { msg_id: 'm-9', text: 'Chào' },
    };
    const message = zaloMessage(body, zalo);
    expect(message).toMatchObject({
      type: 'track',
      event: 'Message Received',
      anonymousId: 'zalo:z-1',
      timestamp: '2025-03-01T09:30:00.000Z',
      properties: {
        channel: 'social',
        platform: 'zalo',
        message_type: 'text',
        message_id: 'm-9',
        text: 'Chào',
        oa_id: 'oa-1',
      },
      context: { externalIds: [{ id: 'z-1', type: 'zalo_id' }] },
    });
    expect(zaloMessage(structuredClone(body), zalo).messageId).toBe(message.messageId);
    expect(zaloMessage({ ...body, message: { msg_id: 'm-10' } }, zalo).messageId).not.toBe(message.messageId);
  });

  it('maps follow to Subscribed (zalo), the shared info to an identify with an E.164 phone, the unknown as is', () => {
    expect(zaloMessage({ ...base, event_name: 'follow', oa_id: 'oa-1', follower: { id: 'z-2' } }, zalo)).toMatchObject({
      event: 'Subscribed',
      anonymousId: 'zalo:z-2',
      // What the customer subscribed to: Zalo messages (the profile's subscriptions.zalo).
      properties: { channel: 'zalo', platform: 'zalo' },
    });
    expect(
      zaloMessage(
        { ...base, event_name: 'user_submit_info', sender: { id: 'z-2' }, info: { name: 'Lan', phone: '84912345678' } },
        zalo,
      ),
    ).toMatchObject({ type: 'identify', traits: { name: 'Lan', phone: '+84912345678' } });
    expect(
      zaloMessage({ ...base, event_name: 'user_reacted_message', sender: { id: 'z-2' }, react_icon: '/-heart' }, zalo),
    ).toMatchObject({
      event: 'Zalo user_reacted_message',
      properties: { channel: 'social', platform: 'zalo', react_icon: '/-heart', sender: { id: 'z-2' } },
    });
  });

  it('refuses an event without a name or a millisecond timestamp', () => {
    expect(() => zaloMessage({ ...base, sender: { id: 'z' } }, zalo)).toThrow(/event_name/);
    expect(() => zaloMessage({ ...base, event_name: 'follow', timestamp: 'yesterday' }, zalo)).toThrow(/timestamp/);
  });
});

describe('Messenger deliveries as messages', () => {
  const delivery = (messaging: object[]) => ({
    object: 'page',
    entry: [{ id: 'page-1', time: 1740821400000, messaging }],
  });
  const envelope = { sender: { id: 'psid-1' }, recipient: { id: 'page-1' }, timestamp: 1740821399000 };

  it('maps a message, an echo, a postback and an unknown kind; the PSID is the customer', () => {
    const { messages, times } = messengerDelivery(
      delivery([
        { ...envelope, message: { mid: 'm-1', text: 'Còn size M?' } },
        {
          sender: { id: 'page-1' },
          recipient: { id: 'psid-1' },
          timestamp: 1,
          message: { mid: 'm-2', is_echo: true, text: 'Còn' },
        },
        { ...envelope, postback: { mid: 'm-3', title: 'Mua ngay', payload: 'BUY' } },
        { ...envelope, read: { watermark: 1740821399000 } },
      ]),
    );
    expect(times).toEqual([1740821400000, 1740821399000, 1, 1740821399000, 1740821399000]);
    expect(messages.map((message) => message.event)).toEqual([
      'Message Received',
      'Message Sent',
      'Message Button Clicked',
      'Messenger read',
    ]);
    for (const message of messages) {
      expect(message).toMatchObject({
        anonymousId: 'messenger:psid-1',
        context: { externalIds: [{ id: 'psid-1', type: 'messenger_psid' }] },
        properties: { channel: 'social', platform: 'messenger', page_id: 'page-1' },
      });
    }
    expect(messages[0]?.properties).toMatchObject({ message_id: 'm-1', text: 'Còn size M?', message_type: 'text' });
    expect(messages[2]?.properties).toMatchObject({ title: 'Mua ngay', payload: 'BUY' });
    expect(new Set(messages.map((message) => message.messageId)).size).toBe(4);
  });

  it('refuses a delivery that is not a Page object or has no entries', () => {
    expect(() => messengerDelivery({ object: 'instagram', entry: [] })).toThrow(/object must be "page"/);
    expect(() => messengerDelivery({ object: 'page', entry: [] })).toThrow(/entry/);
    expect(() => messengerDelivery(delivery([{ ...envelope }]))).toThrow(/message, postback/);
  });
});

describe('helpdesk ticket events as messages', () => {
  const event = {
    id: 'evt-1',
    type: 'ticket.opened',
    occurredAt: '2025-03-01T09:30:00+07:00',
    ticket: { id: 'T-1', type: 'complaint', priority: 'high' },
    customer: { id: 'req-1', userId: 'ada', email: 'ada@example.vn', phone: '0912 345 678' },
    agent: { id: 'ag-1' },
  };

  it('maps the ticket types onto the Care events, with the helpdesk named and the channel the ticket states', () => {
    const names = ['ticket.opened', 'ticket.replied', 'ticket.solved', 'ticket.merged'].map(
      (type) => helpdeskMessage(parseHelpdeskEvent({ ...event, type }), 'zendesk').event,
    );
    expect(names).toEqual(['Ticket Opened', 'Ticket Replied', 'Ticket Resolved', 'Helpdesk ticket.merged']);
    expect(helpdeskMessage(parseHelpdeskEvent(event), 'zendesk')).toMatchObject({
      userId: 'ada',
      anonymousId: 'zendesk:req-1',
      properties: { ticket_id: 'T-1', type: 'complaint', priority: 'high', helpdesk: 'zendesk', agent_id: 'ag-1' },
      context: { traits: { email: 'ada@example.vn', phone: '+84912345678' } },
    });
    expect(helpdeskMessage(parseHelpdeskEvent(event), 'zendesk').properties).not.toHaveProperty('channel');
    const byPhone = { ...event, ticket: { ...event.ticket, channel: 'phone' } };
    expect(helpdeskMessage(parseHelpdeskEvent(byPhone), 'zendesk').properties).toMatchObject({ channel: 'phone' });
    // A channel outside the tracking plan is kept under another name, not refused (the ticket would be lost).
    const byFax = { ...event, ticket: { ...event.ticket, channel: 'fax' } };
    const faxed = helpdeskMessage(parseHelpdeskEvent(byFax), 'zendesk').properties;
    expect(faxed).toMatchObject({ ticket_channel: 'fax' });
    expect(faxed).not.toHaveProperty('channel');
  });

  it('refuses a body without a customer, naming the field', () => {
    const { customer: _customer, ...withoutCustomer } = event;
    expect(() => parseHelpdeskEvent(withoutCustomer)).toThrow(/helpdesk ticket event/);
  });
});

describe('channel phones', () => {
  it('reads Zalo country-code digits and local Vietnamese numbers as E.164', () => {
    expect(channelPhone('84912345678')).toBe('+84912345678');
    expect(channelPhone('0912 345 678')).toBe('+84912345678');
    expect(channelPhone('+84 912 345 678')).toBe('+84912345678');
  });
});
