// Identity cases from anonymous browsing to shared devices, each with the profiles it must end in, on both runtimes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { named, waitFor } from '@cdp/runtime';
import { runtimes, startExtraResolvers, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import { read, send } from '../harness/http';

interface ProfileBody {
  profileId: string;
  identities: Array<{ type: string; value: string }>;
  traits: Record<string, unknown>;
  stats: { events: number; orders: number; channels: string[] };
}

// Each runtime with its one resolver, and Kafka with three resolver instances sharing six partitions.
const variants = [
  ...runtimes.map((runtime) => ({ runtime, resolvers: 1 })),
  { runtime: 'kafka' as const, resolvers: 3 },
];

describe.each(variants)(
  'identity scenarios on the $runtime runtime with $resolvers resolver(s)',
  ({ runtime, resolvers }) => {
    let cdp: TestPlatform;
    let stopExtra: () => Promise<void> = async () => {};

    beforeAll(async () => {
      cdp = await startTestPlatform(runtime, resolvers > 1 ? { CDP_TOPIC_PARTITIONS: '6' } : {});
      stopExtra = await startExtraResolvers(cdp, resolvers - 1);
    });
    afterAll(async () => {
      await stopExtra();
      await cdp?.close();
    });

    const post = async (path: string, body: unknown) => {
      const response = await send(cdp.url, path, body, { writeKey: cdp.writeKey });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
    };
    const profileOf = async (ref: string) => read(cdp.url, `/v1/profiles/${encodeURIComponent(ref)}`, cdp.readKey);

    const sortIds = (ids: Array<{ type: string; value: string }>) =>
      [...ids].sort((a, b) => `${a.type}:${a.value}`.localeCompare(`${b.type}:${b.value}`));

    /** Waits until the profile found by `ref` has exactly these identities and this many events, then returns it. */
    const expectProfile = (
      ref: string,
      expected: { events: number; identities: Array<{ type: string; value: string }>; traits?: unknown },
    ) =>
      waitFor(
        async () => {
          const response = await profileOf(ref);
          if (response.status !== 200) return undefined;
          const body = response.body as unknown as ProfileBody;
          const matches =
            body.stats.events === expected.events &&
            JSON.stringify(sortIds(body.identities)) === JSON.stringify(sortIds(expected.identities)) &&
            // A profile's parts are read side by side, not as one snapshot: a read during the batch's write may count
            // its events before its traits are in.
            (expected.traits === undefined || JSON.stringify(body.traits) === JSON.stringify(expected.traits));
          return matches ? body : undefined;
        },
        {
          timeoutMs: 30_000,
          what: `${ref} to have ${expected.events} events and identities ${JSON.stringify(expected.identities)}`,
        },
      );

    it('joins anonymous browsing to the user who logs in, and pages the timeline newest first', async () => {
      const anonymousId = uniqueName('anon');
      const userId = uniqueName('user');
      await post('/v1/page', { anonymousId, name: 'Home', timestamp: '2025-01-01T10:00:00.000Z' });
      await post('/v1/track', { anonymousId, event: 'Product Viewed', timestamp: '2025-01-01T10:01:00.000Z' });
      await post('/v1/identify', {
        anonymousId,
        userId,
        traits: { name: 'Ada' },
        timestamp: '2025-01-01T10:02:00.000Z',
      });
      await post('/v1/track', {
        userId,
        event: 'Order Completed',
        properties: { revenue: 10 },
        timestamp: '2025-01-01T10:03:00.000Z',
      });

      const identities = [
        { type: 'user_id', value: userId },
        { type: 'anonymous_id', value: anonymousId },
      ];
      const profile = await expectProfile(`user_id:${userId}`, { events: 4, identities, traits: { name: 'Ada' } });
      expect((await profileOf(`anonymous_id:${anonymousId}`)).body.profileId).toBe(profile.profileId);
      expect(profile.traits).toEqual({ name: 'Ada' });
      expect(profile.stats.orders).toBe(1);

      const first = await read(cdp.url, `/v1/profiles/user_id:${userId}/events?limit=3`, cdp.readKey);
      const page1 = first.body as { events: Array<{ timestamp: string }>; nextCursor: string };
      expect(page1.events.map((event) => event.timestamp)).toEqual([
        '2025-01-01T10:03:00.000Z',
        '2025-01-01T10:02:00.000Z',
        '2025-01-01T10:01:00.000Z',
      ]);
      const second = await read(
        cdp.url,
        `/v1/profiles/user_id:${userId}/events?limit=3&cursor=${page1.nextCursor}`,
        cdp.readKey,
      );
      expect((second.body.events as Array<{ timestamp: string }>).map((event) => event.timestamp)).toEqual([
        '2025-01-01T10:00:00.000Z',
      ]);
      expect(second.body.nextCursor).toBeNull();
      expect((await read(cdp.url, `/v1/profiles/user_id:${userId}/events?cursor=nonsense`, cdp.readKey)).status).toBe(
        400,
      );
    });

    it('puts one user on three devices on one profile', async () => {
      const userId = uniqueName('user');
      const devices = [uniqueName('phone'), uniqueName('laptop'), uniqueName('tablet')];
      for (const anonymousId of devices) await post('/v1/page', { anonymousId, name: 'Home' });
      for (const anonymousId of devices) await post('/v1/identify', { anonymousId, userId });
      const identities = [
        { type: 'user_id', value: userId },
        ...devices.map((value) => ({ type: 'anonymous_id', value })),
      ];
      const profile = await expectProfile(`user_id:${userId}`, { events: 6, identities });
      for (const anonymousId of devices)
        expect((await profileOf(`anonymous_id:${anonymousId}`)).body.profileId).toBe(profile.profileId);
    });

    it('joins a store receipt to the customer by phone', async () => {
      const userId = uniqueName('user');
      const register = uniqueName('pos');
      const phone = `+8491${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
      await post('/v1/identify', {
        userId,
        traits: { phone: `${phone.slice(0, 3)} ${phone.slice(3, 6)} ${phone.slice(6)}` },
      });
      await expectProfile(`user_id:${userId}`, {
        events: 1,
        identities: [
          { type: 'user_id', value: userId },
          { type: 'phone', value: phone },
        ],
      });
      await post('/v1/track', {
        anonymousId: register,
        event: 'Order Completed',
        properties: { total: 30, channel: 'store' },
        context: { traits: { phone } },
      });
      const profile = await expectProfile(`phone:${phone}`, {
        events: 2,
        identities: [
          { type: 'user_id', value: userId },
          { type: 'phone', value: phone },
          { type: 'anonymous_id', value: register },
        ],
      });
      expect(profile.stats.orders).toBe(1);
      expect(profile.stats.channels).toContain('store');
    });

    it('treats an email written in other cases and with spaces as the same email', async () => {
      const userId = uniqueName('user');
      const anonymousId = uniqueName('anon');
      const email = `${uniqueName('ada')}@example.com`;
      await post('/v1/identify', { userId, traits: { email: `  ${email.toUpperCase()} ` } });
      await post('/v1/track', { anonymousId, event: 'Email Opened', context: { traits: { email } } });
      const identities = [
        { type: 'user_id', value: userId },
        { type: 'email', value: email },
        { type: 'anonymous_id', value: anonymousId },
      ];
      const profile = await expectProfile(`email:${email.toUpperCase()}`, { events: 2, identities });
      expect((await profileOf(`user_id:${userId}`)).body.profileId).toBe(profile.profileId);
    });

    it('joins an alias’s previous id to the user', async () => {
      const anonymousId = uniqueName('anon');
      const userId = uniqueName('user');
      await post('/v1/page', { anonymousId });
      await post('/v1/alias', { previousId: anonymousId, userId });
      await post('/v1/track', { userId, event: 'Signed Up' });
      await expectProfile(`anonymous_id:${anonymousId}`, {
        events: 3,
        identities: [
          { type: 'user_id', value: userId },
          { type: 'anonymous_id', value: anonymousId },
        ],
      });
    });

    it('never merges two users of a shared device, and records the refused link', async () => {
      const device = uniqueName('kiosk');
      const [first, second] = [uniqueName('user'), uniqueName('user')];
      await post('/v1/identify', { userId: first, anonymousId: device });
      await expectProfile(`user_id:${first}`, {
        events: 1,
        identities: [
          { type: 'user_id', value: first },
          { type: 'anonymous_id', value: device },
        ],
      });
      await post('/v1/identify', { userId: second, anonymousId: device });
      await post('/v1/track', { userId: second, anonymousId: device, event: 'Product Viewed' });
      await post('/v1/track', { userId: first, anonymousId: device, event: 'Product Viewed' });

      const firstProfile = await expectProfile(`user_id:${first}`, {
        events: 2,
        identities: [
          { type: 'user_id', value: first },
          { type: 'anonymous_id', value: device },
        ],
      });
      const secondProfile = await expectProfile(`user_id:${second}`, {
        events: 2,
        identities: [{ type: 'user_id', value: second }],
      });
      expect(secondProfile.profileId).not.toBe(firstProfile.profileId);
      // The device belongs to the user it was linked to first.
      expect((await profileOf(`anonymous_id:${device}`)).body.profileId).toBe(firstProfile.profileId);
      // A batch writes its refusals last, after the identities the lookups above found.
      const refusals = await waitFor(
        async () => {
          const result = await cdp.platform.clickhouse.client.query(
            named('test.countRefusals', {
              query: 'SELECT count() AS n FROM identity_refusals FINAL WHERE has(identifiers, {id:String})',
              query_params: { id: `anonymous_id:${device}` },
              format: 'JSONEachRow',
            }),
          );
          const n = Number((await result.json<{ n: string }>())[0]?.n);
          return n > 0 ? n : undefined;
        },
        { timeoutMs: 30_000, what: 'the refused link recorded' },
      );
      expect(refusals).toBeGreaterThanOrEqual(1);
    });

    it('collapses a chain of merges onto the oldest profile, which every absorbed profile id resolves to', async () => {
      const [a, b, c] = [uniqueName('a'), uniqueName('b'), uniqueName('c')];
      const email = `${uniqueName('chain')}@example.com`;
      const userId = uniqueName('user');
      const oldIds: string[] = [];
      for (const anonymousId of [a, b, c]) {
        await post('/v1/page', { anonymousId });
        const profile = await expectProfile(`anonymous_id:${anonymousId}`, {
          events: 1,
          identities: [{ type: 'anonymous_id', value: anonymousId }],
        });
        oldIds.push(profile.profileId);
      }
      // c joins b (through the email), then b's profile joins a's (through the user's identify).
      await post('/v1/track', { anonymousId: b, event: 'Newsletter Joined', context: { traits: { email } } });
      await post('/v1/track', { anonymousId: c, event: 'Newsletter Confirmed', context: { traits: { email } } });
      await expectProfile(`anonymous_id:${c}`, {
        events: 4,
        identities: [
          { type: 'email', value: email },
          { type: 'anonymous_id', value: b },
          { type: 'anonymous_id', value: c },
        ],
      });
      await post('/v1/identify', { userId, anonymousId: a, traits: { email } });
      const identities = [
        { type: 'user_id', value: userId },
        { type: 'email', value: email },
        ...[a, b, c].map((value) => ({ type: 'anonymous_id', value })),
      ];
      const profile = await expectProfile(`user_id:${userId}`, { events: 6, identities });
      expect(profile.profileId).toBe(oldIds[0]);
      for (const oldId of oldIds) expect((await profileOf(`profile_id:${oldId}`)).body.profileId).toBe(oldIds[0]);
    });

    it('places events that arrive before the identify that links them on the joined profile', async () => {
      const anonymousId = uniqueName('anon');
      const userId = uniqueName('user');
      await post('/v1/batch', {
        batch: [
          {
            type: 'track',
            userId,
            event: 'Order Completed',
            properties: { revenue: 5 },
            timestamp: '2025-02-01T09:00:00.000Z',
          },
          { type: 'track', anonymousId, event: 'Product Viewed', timestamp: '2025-02-01T08:00:00.000Z' },
          { type: 'track', anonymousId, event: 'Product Added', timestamp: '2025-02-01T08:30:00.000Z' },
        ],
      });
      await post('/v1/identify', { userId, anonymousId, timestamp: '2025-02-01T08:45:00.000Z' });
      await expectProfile(`anonymous_id:${anonymousId}`, {
        events: 4,
        identities: [
          { type: 'user_id', value: userId },
          { type: 'anonymous_id', value: anonymousId },
        ],
      });
    });

    it('counts a message delivered twice once', async () => {
      const userId = uniqueName('user');
      const message = { userId, event: 'Order Completed', properties: { revenue: 7 }, messageId: uniqueName('msg') };
      await post('/v1/track', message);
      await post('/v1/track', message);
      await post('/v1/batch', {
        batch: [
          { type: 'track', ...message },
          { type: 'track', userId, event: 'Product Viewed' },
        ],
      });
      const profile = await expectProfile(`user_id:${userId}`, {
        events: 2,
        identities: [{ type: 'user_id', value: userId }],
      });
      expect(profile.stats.orders).toBe(1);
    });
  },
);
