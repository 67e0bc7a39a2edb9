// Consent and subscriptions on both runtimes: an event whose consent denies Analytics reaches no profile (nor segments
// and exports, which read profiles), one that grants it or says nothing of consent does; each profile keeps the latest
// subscription state of every channel its events stated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/runtime';
import { counterOf, read, send } from '../harness/http';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';

describe.each(runtimes)('consent on the %s runtime', (runtime) => {
  let cdp: TestPlatform;
  const profile = (ref: string) => read(cdp.url, `/v1/profiles/${encodeURIComponent(ref)}`, cdp.readKey);
  const counted = () => counterOf(cdp.url, 'cdp_resolver_events_without_consent_total');

  beforeAll(async () => {
    cdp = await startTestPlatform(runtime, { CDP_SEGMENTS_INTERVAL_MS: '1000' });
  }, 120_000);
  afterAll(async () => {
    await cdp?.close();
  });

  it('keeps out an event whose consent denies Analytics, and takes the same visitor once they grant it', async () => {
    const visitor = uniqueName('visitor');
    const consent = (Analytics: boolean) => ({ consent: { categoryPreferences: { Analytics, Advertising: false } } });
    const denied = await send(
      cdp.url,
      '/v1/page',
      { anonymousId: visitor, name: 'Home', context: consent(false) },
      { writeKey: cdp.writeKey },
    );
    expect(denied.status).toBe(200);
    await waitFor(async () => (await counted()) >= 1, { timeoutMs: 30_000, what: 'the denied event to be counted' });
    expect((await profile(`anonymous_id:${visitor}`)).status).toBe(404);

    // Granting Analytics (Advertising still denied) lets the next event in; the earlier one stays out.
    await send(
      cdp.url,
      '/v1/page',
      { anonymousId: visitor, name: 'Pricing', context: consent(true) },
      { writeKey: cdp.writeKey },
    );
    const granted = await waitFor(
      async () => {
        const answer = await profile(`anonymous_id:${visitor}`);
        return answer.status === 200 ? answer.body : undefined;
      },
      { timeoutMs: 30_000, what: "the visitor's profile" },
    );
    expect((granted.stats as { events: number }).events).toBe(1);

    // An event that says nothing of consent is taken, as Segment takes it.
    const silent = uniqueName('silent');
    await send(cdp.url, '/v1/page', { anonymousId: silent, name: 'Home' }, { writeKey: cdp.writeKey });
    await waitFor(async () => (await profile(`anonymous_id:${silent}`)).status === 200, {
      timeoutMs: 30_000,
      what: "the silent visitor's profile",
    });
    expect(await counted()).toBe(1);
  });

  it('keeps the latest subscription state per channel, by event time, from identify traits and Subscribed / Unsubscribed', async () => {
    const userId = uniqueName('subscriber');
    const batch = [
      {
        type: 'identify',
        userId,
        traits: { subscriptions: { email: true, SMS: 'unsubscribed', zalo: 'maybe', fax: true } },
        timestamp: '2025-03-01T08:00:00.000Z',
      },
      {
        type: 'track',
        userId,
        event: 'Unsubscribed',
        properties: { channel: 'email' },
        timestamp: '2025-03-02T08:00:00.000Z',
      },
      {
        type: 'track',
        userId,
        event: 'Subscribed',
        properties: { channel: 'zalo' },
        timestamp: '2025-03-03T08:00:00.000Z',
      },
      // Dated before the unsubscription, though it arrives after it: the later state stands.
      {
        type: 'track',
        userId,
        event: 'Subscribed',
        properties: { channel: 'email' },
        timestamp: '2025-03-01T12:00:00.000Z',
      },
    ];
    expect((await send(cdp.url, '/v1/batch', { batch }, { writeKey: cdp.writeKey })).status).toBe(200);
    const stated = await waitFor(
      async () => {
        const answer = await profile(`user_id:${userId}`);
        return answer.status === 200 && (answer.body.stats as { events: number }).events === 4
          ? answer.body
          : undefined;
      },
      { timeoutMs: 30_000, what: "the subscriber's four events" },
    );
    expect(stated.subscriptions).toEqual({ email: 'unsubscribed', sms: 'unsubscribed', zalo: 'subscribed' });

    await send(
      cdp.url,
      '/v1/track',
      { userId, event: 'Subscribed', properties: { channel: 'email' }, timestamp: '2025-03-04T08:00:00.000Z' },
      { writeKey: cdp.writeKey },
    );
    await waitFor(
      async () =>
        ((await profile(`user_id:${userId}`)).body.subscriptions as Record<string, string>).email === 'subscribed',
      { timeoutMs: 30_000, what: 'the new email subscription' },
    );
  });

  it('exports only the members subscribed to a channel when asked, in every format', async () => {
    const cohort = uniqueName('cohort');
    const [subscribed, unsubscribed, silent] = [uniqueName('a'), uniqueName('b'), uniqueName('c')];
    const batch = [
      { type: 'identify', userId: subscribed, traits: { cohort, subscriptions: { email: 'subscribed' } } },
      { type: 'identify', userId: unsubscribed, traits: { cohort, subscriptions: { email: false, sms: true } } },
      { type: 'identify', userId: silent, traits: { cohort } },
    ];
    expect((await send(cdp.url, '/v1/batch', { batch }, { writeKey: cdp.writeKey })).status).toBe(200);
    const created = await fetch(`${cdp.url}/v1/segments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cdp.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Cohort', rule: { trait: 'cohort', equals: cohort } }),
    });
    const { id } = (await created.json()) as { id: string };
    const members = async (query: string, accept = 'application/json') =>
      fetch(`${cdp.url}/v1/segments/${id}/members${query}`, {
        headers: { authorization: `Bearer ${cdp.readKey}`, accept },
      });
    const userIdsOf = async (query: string) =>
      ((await (await members(query)).json()) as { members: Array<{ userId: string }> }).members
        .map((member) => member.userId)
        .sort();
    // A member's identifiers are stored after the traits that made it one: wait for all three userIds.
    const everyone = [subscribed, unsubscribed, silent].sort();
    await waitFor(async () => JSON.stringify(await userIdsOf('')) === JSON.stringify(everyone), {
      timeoutMs: 60_000,
      what: 'the cohort segment with its three members and their userIds',
    });

    expect(await userIdsOf('?subscribed=email')).toEqual([subscribed]);
    expect(await userIdsOf('?subscribed=sms')).toEqual([unsubscribed]);
    expect(await userIdsOf('?subscribed=zalo')).toEqual([]);
    const csv = (await (await members('?subscribed=email', 'text/csv')).text()).trim().split('\r\n');
    expect(csv).toHaveLength(2);
    expect(csv[1]).toContain(subscribed);
    const ndjson = (await (await members('?subscribed=email', 'application/x-ndjson')).text()).trim().split('\n');
    expect(ndjson.map((line) => (JSON.parse(line) as { userId: string }).userId)).toEqual([subscribed]);
    const wrong = await members('?subscribed=fax');
    expect(wrong.status).toBe(400);
  });
});
