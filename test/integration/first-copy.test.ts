// The first copy of a messageId wins, on both runtimes: a client's retry dated later, arriving after the profile it
// was stored on merged into another, moves no last-seen time, adds no revenue or order, and shows once on the timeline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/runtime';
import { read, send } from '../harness/http';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';

interface Profile {
  profileId: string;
  stats: { events: number; orders: number; revenue: number; lastSeen: string };
  traits: Record<string, unknown>;
}

describe.each(runtimes)('first copy wins on the %s runtime', (runtime) => {
  let cdp: TestPlatform;
  const profile = async (ref: string) => read(cdp.url, `/v1/profiles/${encodeURIComponent(ref)}`, cdp.readKey);
  const track = async (body: object) =>
    expect((await send(cdp.url, '/v1/track', body, { writeKey: cdp.writeKey })).status).toBe(200);
  const identify = async (body: object) =>
    expect((await send(cdp.url, '/v1/identify', body, { writeKey: cdp.writeKey })).status).toBe(200);
  const eventsOf = (ref: string, events: number) =>
    waitFor(
      async () => {
        const answer = await profile(ref);
        return answer.status === 200 && (answer.body as unknown as Profile).stats.events === events
          ? (answer.body as unknown as Profile)
          : undefined;
      },
      { timeoutMs: 30_000, what: `${ref} with ${events} events` },
    );

  beforeAll(async () => {
    cdp = await startTestPlatform(runtime);
  }, 120_000);
  afterAll(async () => {
    await cdp?.close();
  });

  it('drops a later copy of an order after a merge: last seen, revenue, orders and the timeline keep the first', async () => {
    const userId = uniqueName('buyer');
    const laptop = uniqueName('laptop');
    const phone = uniqueName('phone');
    const messageId = uniqueName('order-message');
    // The customer signs in on a laptop first (the older profile), then orders anonymously on a phone.
    await identify({ userId, anonymousId: laptop, traits: { tier: 'silver' }, timestamp: '2025-03-01T08:00:00.000Z' });
    await track({
      anonymousId: phone,
      event: 'Order Completed',
      messageId,
      properties: { revenue: 100, currency: 'VND' },
      timestamp: '2025-03-02T09:00:00.000Z',
    });
    await eventsOf(`anonymous_id:${phone}`, 1);
    // Signing in on the phone merges the phone's profile into the laptop's.
    await identify({ userId, anonymousId: phone, traits: { tier: 'gold' }, timestamp: '2025-03-03T10:00:00.000Z' });
    await eventsOf(`user_id:${userId}`, 3);

    // The phone's SDK retries the order days later, without a timestamp of its own and with another revenue.
    await track({
      anonymousId: phone,
      userId,
      event: 'Order Completed',
      messageId,
      properties: { revenue: 999, currency: 'VND' },
      traits: { tier: 'platinum' },
    });
    // A marker from the same device after it: once it shows, the retry has been read.
    await track({ anonymousId: phone, userId, event: 'Marker', timestamp: '2025-03-04T11:00:00.000Z' });
    const merged = await eventsOf(`user_id:${userId}`, 4);
    expect(merged.stats).toMatchObject({ orders: 1, revenue: 100, lastSeen: '2025-03-04T11:00:00.000Z' });

    const timeline = await read(
      cdp.url,
      `/v1/profiles/user_id:${encodeURIComponent(userId)}/events?limit=10`,
      cdp.readKey,
    );
    const copies = (
      timeline.body.events as Array<{ messageId: string; timestamp: string; properties: { revenue?: number } }>
    ).filter((event) => event.messageId === messageId);
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatchObject({ timestamp: '2025-03-02T09:00:00.000Z', properties: { revenue: 100 } });
    const metrics = await (await fetch(`${cdp.url}/metrics`)).text();
    expect(Number(/^cdp_resolver_events_duplicate_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  });
});
