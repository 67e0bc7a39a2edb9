// Consent and subscriptions on both runtimes: an event whose consent denies Analytics reaches no profile (nor segments
// and exports, which read profiles), one that grants it or says nothing of consent does; each profile keeps the latest
// subscription state of every channel its events stated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/runtime';
import { read, send } from '../harness/http';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';

describe.each(runtimes)('consent on the %s runtime', (runtime) => {
  let cdp: TestPlatform;
  const profile = (ref: string) => read(cdp.url, `/v1/profiles/${encodeURIComponent(ref)}`, cdp.readKey);
  const counted = async () => Number(/^cdp_resolver_events_without_consent_total (\d+)$/m.exec(await (await fetch(`${cdp.url}/metrics`)).text())?.[1] ?? 0);

  beforeAll(async () => {
    cdp = await startTestPlatform(runtime);
  }, 120_000);
  afterAll(async () => {
    await cdp?.close();
  });

  it('keeps out an event whose consent denies Analytics, and takes the same visitor once they grant it', async () => {
    const visitor = uniqueName('visitor');
    const consent = (Analytics: boolean) => ({ consent: { categoryPreferences: { Analytics, Advertising: false } } });
    const denied = await send(cdp.url, '/v1/page', { anonymousId: visitor, name: 'Home', context: consent(false) }, { writeKey: cdp.writeKey });
    expect(denied.status).toBe(200);
    await waitFor(async () => (await counted()) >= 1, { timeoutMs: 30_000, what: 'the denied event to be counted' });
    expect((await profile(`anonymous_id:${visitor}`)).status).toBe(404);

    // Granting Analytics (Advertising still denied) lets the next event in; the earlier one stays out.
    await send(cdp.url, '/v1/page', { anonymousId: visitor, name: 'Pricing', context: consent(true) }, { writeKey: cdp.writeKey });
    const granted = await waitFor(async () => {
      const answer = await profile(`anonymous_id:${visitor}`);
      return answer.status === 200 ? answer.body : undefined;
    }, { timeoutMs: 30_000, what: 'the visitor\'s profile' });
    expect((granted.stats as { events: number }).events).toBe(1);

    // An event that says nothing of consent is taken, as Segment takes it.
    const silent = uniqueName('silent');
    await send(cdp.url, '/v1/page', { anonymousId: silent, name: 'Home' }, { writeKey: cdp.writeKey });
    await waitFor(async () => (await profile(`anonymous_id:${silent}`)).status === 200, { timeoutMs: 30_000, what: 'the silent visitor\'s profile' });
    expect(await counted()).toBe(1);
  });

  it('keeps the latest subscription state per channel, by event time, from identify traits and Subscribed / Unsubscribed', async () => {
    const userId = uniqueName('subscriber');
    const batch = [
      { type: 'identify', userId, traits: { subscriptions: { email: true, SMS: 'unsubscribed', zalo: 'maybe', fax: true } }, timestamp: '2025-03-01T08:00:00.000Z' },
      { type: 'track', userId, event: 'Unsubscribed', properties: { channel: 'email' }, timestamp: '2025-03-02T08:00:00.000Z' },
      { type: 'track', userId, event: 'Subscribed', properties: { channel: 'zalo' }, timestamp: '2025-03-03T08:00:00.000Z' },
      // Dated before the unsubscription, though it arrives after it: the later state stands.
      { type: 'track', userId, event: 'Subscribed', properties: { channel: 'email' }, timestamp: '2025-03-01T12:00:00.000Z' },
    ];
    expect((await send(cdp.url, '/v1/batch', { batch }, { writeKey: cdp.writeKey })).status).toBe(200);
    const stated = await waitFor(async () => {
      const answer = await profile(`user_id:${userId}`);
      return answer.status === 200 && (answer.body.stats as { events: number }).events === 4 ? answer.body : undefined;
    }, { timeoutMs: 30_000, what: 'the subscriber\'s four events' });
    expect(stated.subscriptions).toEqual({ email: 'unsubscribed', sms: 'unsubscribed', zalo: 'subscribed' });

    await send(cdp.url, '/v1/track', { userId, event: 'Subscribed', properties: { channel: 'email' }, timestamp: '2025-03-04T08:00:00.000Z' }, { writeKey: cdp.writeKey });
    await waitFor(async () => ((await profile(`user_id:${userId}`)).body.subscriptions as Record<string, string>).email === 'subscribed', { timeoutMs: 30_000, what: 'the new email subscription' });
  });
});
