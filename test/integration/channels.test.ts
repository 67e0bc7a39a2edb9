// Messaging channels as sources, on both runtimes: each webhook's signature over the raw body, replays and
// redeliveries, malformed bodies, unknown events kept, Messenger's handshake, and a Zalo follower who shares a phone
// joining the customer the shop knows by userId.
import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/runtime';
import { read, send, type JsonResponse } from '../harness/http';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';

const zalo = { appId: '360846524940903967', oaSecret: 'zalo-oa-secret-for-tests' };
const messenger = { appSecret: 'messenger-app-secret-for-tests', verifyToken: 'verify-me-please' };
const helpdeskSecret = 'helpdesk-secret-for-tests';

/** The MAC as Zalo's documentation states it: hex sha256 of app id + body + timestamp + OA secret key. */
const zaloMac = (body: string, timestamp: string, secret = zalo.oaSecret) =>
  `mac=${createHash('sha256').update(`${zalo.appId}${body}${timestamp}${secret}`).digest('hex')}`;
const hubSignature = (body: string, secret = messenger.appSecret) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const cdpSignature = (body: string, t = Math.floor(Date.now() / 1000)) =>
  `t=${t},v1=${createHmac('sha256', helpdeskSecret).update(`${t}.${body}`).digest('hex')}`;

interface Timeline {
  events: Array<{ event: string | null; type: string; properties: Record<string, unknown> }>;
}

describe.each(runtimes)('messaging channels on the %s runtime', (runtime) => {
  let cdp: TestPlatform;
  const post = (path: string, raw: string, headers: Record<string, string>) =>
    send(cdp.url, path, undefined, { raw, headers });
  const zaloEvent = (fields: Record<string, unknown>, timestamp = String(Date.now())) => {
    const raw = JSON.stringify({ app_id: zalo.appId, oa_id: 'oa-1', recipient: { id: 'oa-1' }, timestamp, ...fields });
    return { raw, timestamp };
  };
  const postZalo = ({ raw, timestamp }: { raw: string; timestamp: string }, mac = zaloMac(raw, timestamp)) =>
    post('/v1/channels/zalo', raw, { 'x-zevent-signature': mac });
  const timelineOf = (ref: string, count: number) =>
    waitFor(
      async () => {
        const answer = await read(cdp.url, `/v1/profiles/${encodeURIComponent(ref)}/events?limit=50`, cdp.readKey);
        const timeline = answer.body as unknown as Timeline;
        return answer.status === 200 && timeline.events.length === count ? timeline : undefined;
      },
      { timeoutMs: 30_000, what: `${ref} with ${count} events` },
    );
  const refused = (answer: JsonResponse, status: number, code: string) =>
    expect({ status: answer.status, code: answer.body.code }).toEqual({ status, code });

  beforeAll(async () => {
    cdp = await startTestPlatform(runtime, {
      CDP_ZALO_APP_ID: zalo.appId,
      CDP_ZALO_OA_SECRET: zalo.oaSecret,
      CDP_MESSENGER_APP_SECRET: messenger.appSecret,
      CDP_MESSENGER_VERIFY_TOKEN: messenger.verifyToken,
      CDP_HELPDESK_SECRET: helpdeskSecret,
      CDP_HELPDESK_NAME: 'zendesk',
    });
  }, 120_000);
  afterAll(async () => {
    await cdp?.close();
  });

  it('stores a signed Zalo message once however often it is delivered, keeps an unknown event, refuses the rest', async () => {
    const follower = uniqueName('zalo');
    const text = zaloEvent({
      event_name: 'user_send_text',
      sender: { id: follower },
      message: { msg_id: uniqueName('msg'), text: 'Đơn hàng của tôi đâu?' },
    });
    expect((await postZalo(text)).status).toBe(200);
    expect((await postZalo(text)).status).toBe(200);
    refused(await post('/v1/channels/zalo', text.raw, {}), 401, 'MISSING_SIGNATURE');
    refused(await postZalo(text, zaloMac(text.raw, text.timestamp, 'another-secret')), 401, 'INVALID_SIGNATURE');
    const tampered = { raw: text.raw.replace('đâu', 'where'), timestamp: text.timestamp };
    refused(await postZalo(tampered, zaloMac(text.raw, text.timestamp)), 401, 'INVALID_SIGNATURE');
    const old = zaloEvent(
      { event_name: 'user_send_text', sender: { id: follower } },
      String(Date.now() - 2 * 86_400_000),
    );
    refused(await postZalo(old), 401, 'STALE_REQUEST');
    refused(await post('/v1/channels/zalo', '{"event_name":', { 'x-zevent-signature': 'mac=00' }), 400, 'INVALID_JSON');
    refused(await postZalo({ raw: '[1]', timestamp: '1' }, zaloMac('[1]', '1')), 400, 'INVALID_REQUEST');
    // After the redelivery on the follower's partition: once it shows, the copy has been read and dropped.
    expect((await postZalo(zaloEvent({ event_name: 'user_reacted_message', sender: { id: follower } }))).status).toBe(
      200,
    );

    const timeline = await timelineOf(`zalo_id:${follower}`, 2);
    expect(timeline.events.map((event) => event.event).sort()).toEqual([
      'Message Received',
      'Zalo user_reacted_message',
    ]);
    expect(timeline.events.find((event) => event.event === 'Message Received')?.properties).toMatchObject({
      channel: 'social',
      platform: 'zalo',
      message_type: 'text',
      text: 'Đơn hàng của tôi đâu?',
    });
  });

  it('joins a Zalo follower, the phone they share and the userId the shop knows into one profile', async () => {
    const follower = uniqueName('zalo');
    const userId = uniqueName('customer');
    const phone = `+8491${String(Date.now()).slice(-7)}`;
    expect((await postZalo(zaloEvent({ event_name: 'follow', follower: { id: follower } }))).status).toBe(200);
    const info = { name: 'Lan', phone: phone.slice(1) };
    expect((await postZalo(zaloEvent({ event_name: 'user_submit_info', sender: { id: follower }, info }))).status).toBe(
      200,
    );
    const identify = { type: 'identify', userId, traits: { phone } };
    expect((await send(cdp.url, '/v1/batch', { batch: [identify] }, { writeKey: cdp.writeKey })).status).toBe(200);

    const profile = await waitFor(
      async () => {
        const answer = await read(cdp.url, `/v1/profiles/zalo_id:${encodeURIComponent(follower)}`, cdp.readKey);
        const body = answer.body as { profileId: string; identities: Array<{ type: string; value: string }> };
        return answer.status === 200 && body.identities.some((identity) => identity.type === 'user_id')
          ? body
          : undefined;
      },
      { timeoutMs: 30_000, what: 'the follower joined to the customer' },
    );
    expect(profile.identities).toEqual(
      expect.arrayContaining([
        { type: 'user_id', value: userId },
        { type: 'phone', value: phone },
        { type: 'zalo_id', value: follower },
      ]),
    );
    const byUserId = await read(cdp.url, `/v1/profiles/user_id:${encodeURIComponent(userId)}`, cdp.readKey);
    expect(byUserId.body).toMatchObject({ profileId: profile.profileId, subscriptions: { zalo: 'subscribed' } });
  });

  it("answers Messenger's subscription check and stores its signed deliveries", async () => {
    const check = (token: string) =>
      fetch(`${cdp.url}/v1/channels/messenger?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=1158201444`);
    const answered = await check(messenger.verifyToken);
    expect({ status: answered.status, body: await answered.text() }).toEqual({ status: 200, body: '1158201444' });
    expect((await check('guess')).status).toBe(403);

    const psid = uniqueName('psid');
    const now = Date.now();
    const raw = JSON.stringify({
      object: 'page',
      entry: [
        {
          id: 'page-1',
          time: now,
          messaging: [
            {
              sender: { id: psid },
              recipient: { id: 'page-1' },
              timestamp: now,
              message: { mid: uniqueName('m'), text: 'Còn size M?' },
            },
            {
              sender: { id: psid },
              recipient: { id: 'page-1' },
              timestamp: now,
              postback: { title: 'Mua', payload: 'BUY' },
            },
          ],
        },
      ],
    });
    refused(await post('/v1/channels/messenger', raw, {}), 401, 'MISSING_SIGNATURE');
    refused(
      await post('/v1/channels/messenger', raw, { 'x-hub-signature-256': hubSignature(raw, 'x') }),
      401,
      'INVALID_SIGNATURE',
    );
    expect((await post('/v1/channels/messenger', raw, { 'x-hub-signature-256': hubSignature(raw) })).status).toBe(200);
    const timeline = await timelineOf(`messenger_psid:${psid}`, 2);
    expect(timeline.events.map((event) => event.event).sort()).toEqual(['Message Button Clicked', 'Message Received']);
  });

  it('maps signed helpdesk ticket events onto the Care events of the customer', async () => {
    const userId = uniqueName('customer');
    const event = (type: string) =>
      JSON.stringify({
        id: uniqueName('evt'),
        type,
        occurredAt: new Date().toISOString(),
        ticket: { id: 'T-1', type: 'complaint', channel: 'chat' },
        customer: { id: uniqueName('req'), userId },
      });
    const opened = event('ticket.opened');
    refused(await post('/v1/channels/helpdesk', opened, {}), 401, 'MISSING_SIGNATURE');
    refused(
      await post('/v1/channels/helpdesk', opened, { 'x-cdp-signature': cdpSignature(opened, 1_700_000_000) }),
      401,
      'STALE_REQUEST',
    );
    const notTicket = '{"type":"ticket.opened"}';
    refused(
      await post('/v1/channels/helpdesk', notTicket, { 'x-cdp-signature': cdpSignature(notTicket) }),
      400,
      'INVALID_REQUEST',
    );
    for (const body of [opened, event('ticket.replied'), event('ticket.solved')])
      expect((await post('/v1/channels/helpdesk', body, { 'x-cdp-signature': cdpSignature(body) })).status).toBe(200);
    const timeline = await timelineOf(`user_id:${userId}`, 3);
    expect(timeline.events.map((item) => item.event).sort()).toEqual([
      'Ticket Opened',
      'Ticket Replied',
      'Ticket Resolved',
    ]);
    expect(timeline.events[0]?.properties).toMatchObject({ channel: 'chat', helpdesk: 'zendesk', ticket_id: 'T-1' });
    // The ticket counts for the channel the customer wrote from, as the KPIs split tickets (the only ticket here).
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    const kpis = await read(cdp.url, `/v1/analytics/kpis?from=${day(-1)}&to=${day(1)}`, cdp.readKey);
    expect(kpis.status).toBe(200);
    const byChannel = (kpis.body as unknown as { byChannel: Array<{ channel: string; tickets: number }> }).byChannel;
    expect(byChannel.find((row) => row.channel === 'chat')?.tickets).toBe(1);
  });
});
