// Which sources' emails and phones are believed, on both runtimes: a browser's key (write only) cannot join a
// stranger's profile by sending their email, while a server's key (write and trusted) links by it; a userId from
// either links as before, a suppressed email in a browser's event is still dropped, and CDP_TRUST_ALL_SOURCES
// restores linking for every source.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/runtime';
import { counterOf, read, send } from '../harness/http';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';

interface Profile {
  profileId: string;
  identities: Array<{ type: string; value: string }>;
  traits: Record<string, unknown>;
}

/** A new key of the platform's, made through the API with an admin key. */
async function createKey(cdp: TestPlatform, scopes: string[]): Promise<string> {
  const response = await fetch(`${cdp.url}/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cdp.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ source: uniqueName('web'), scopes }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { key: string }).key;
}

function helpers(get: () => TestPlatform) {
  const profile = async (ref: string) => read(get().url, `/v1/profiles/${encodeURIComponent(ref)}`, get().readKey);
  const sendWith = async (writeKey: string, messages: object[]) =>
    expect((await send(get().url, '/v1/batch', { batch: messages }, { writeKey })).status).toBe(200);
  const profileWith = (ref: string, events: number) =>
    waitFor(
      async () => {
        const answer = await profile(ref);
        return answer.status === 200 && (answer.body.stats as { events: number }).events === events
          ? (answer.body as unknown as Profile)
          : undefined;
      },
      { timeoutMs: 30_000, what: `${ref} with ${events} events` },
    );
  // The resolver writes a batch's identities after its events: a profile that counts an event may not yet be found
  // by that event's identifiers.
  const profileFound = (ref: string) =>
    waitFor(
      async () => {
        const answer = await profile(ref);
        return answer.status === 200 ? (answer.body as unknown as Profile) : undefined;
      },
      { timeoutMs: 30_000, what: `${ref} found` },
    );
  return { profile, sendWith, profileWith, profileFound };
}

describe.each(runtimes)('trusted sources on the %s runtime', (runtime) => {
  let cdp: TestPlatform;
  let browserKey: string;
  const { profile, sendWith, profileWith, profileFound } = helpers(() => cdp);

  beforeAll(async () => {
    cdp = await startTestPlatform(runtime);
    browserKey = await createKey(cdp, ['write']);
  }, 120_000);
  afterAll(async () => {
    await cdp?.close();
  });

  it("does not let a browser key join a stranger's profile by their email or phone; a server key links by them", async () => {
    const userId = uniqueName('customer');
    const email = `${uniqueName('lan')}@example.vn`;
    const phone = '+84912345678';
    // The shop's server knows the customer by userId, email and phone.
    await sendWith(cdp.writeKey, [
      { type: 'identify', userId, traits: { email, phone, name: 'Lan' }, timestamp: '2025-05-01T08:00:00.000Z' },
    ]);
    const customer = await profileWith(`user_id:${userId}`, 1);
    // Someone else's browser sends her email and phone, and orders.
    const intruder = uniqueName('intruder-device');
    await sendWith(browserKey, [
      { type: 'identify', anonymousId: intruder, traits: { email, phone }, timestamp: '2025-05-02T08:00:00.000Z' },
      {
        type: 'track',
        anonymousId: intruder,
        event: 'Order Completed',
        properties: { revenue: 1 },
        context: { traits: { email } },
        timestamp: '2025-05-02T08:01:00.000Z',
      },
    ]);
    const apart = await profileWith(`anonymous_id:${intruder}`, 2);
    expect(apart.profileId).not.toBe(customer.profileId);
    expect(apart.identities).toEqual([{ type: 'anonymous_id', value: intruder }]);
    // What the browser said is kept as its traits; the customer's profile is untouched.
    expect(apart.traits).toMatchObject({ email, phone });
    const after = (await profile(`email:${email}`)).body as unknown as Profile & {
      stats: { events: number; orders: number };
    };
    expect(after.profileId).toBe(customer.profileId);
    expect(after.stats).toMatchObject({ events: 1, orders: 0 });

    // The same email from the server's key, with a device of the customer's, links that device.
    const device = uniqueName('customer-device');
    await sendWith(cdp.writeKey, [
      { type: 'identify', anonymousId: device, traits: { email }, timestamp: '2025-05-03T08:00:00.000Z' },
    ]);
    await profileWith(`user_id:${userId}`, 2);
    expect((await profileFound(`anonymous_id:${device}`)).profileId).toBe(customer.profileId);
  });

  it("links a browser's events by userId as before", async () => {
    const userId = uniqueName('member');
    const device = uniqueName('member-device');
    await sendWith(browserKey, [
      { type: 'page', anonymousId: device, name: 'Home', timestamp: '2025-06-01T08:00:00.000Z' },
      {
        type: 'identify',
        userId,
        anonymousId: device,
        traits: { email: `${userId}@example.vn` },
        timestamp: '2025-06-01T08:01:00.000Z',
      },
    ]);
    const member = await profileWith(`user_id:${userId}`, 2);
    expect(member.identities.map((identity) => identity.type).sort()).toEqual(['anonymous_id', 'user_id']);
  });

  it("drops a browser's event that names a suppressed email, though the email links nothing", async () => {
    const email = `${uniqueName('erased')}@example.vn`;
    const suppressed = await fetch(`${cdp.url}/v1/suppressions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cdp.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'email', value: email }),
    });
    expect(suppressed.status).toBeLessThan(300);
    // Resolvers read the suppressions every second.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const before = await counterOf(cdp.url, 'cdp_resolver_events_suppressed_total');
    const device = uniqueName('device');
    await sendWith(browserKey, [{ type: 'identify', anonymousId: device, traits: { email } }]);
    await waitFor(async () => (await counterOf(cdp.url, 'cdp_resolver_events_suppressed_total')) > before, {
      timeoutMs: 30_000,
      what: 'the event dropped',
    });
    expect((await profile(`anonymous_id:${device}`)).status).toBe(404);
  });
});

describe('trusting every source (CDP_TRUST_ALL_SOURCES=true) on the embedded runtime', () => {
  let cdp: TestPlatform;
  const { sendWith, profileWith, profileFound } = helpers(() => cdp);

  beforeAll(async () => {
    cdp = await startTestPlatform('embedded', { CDP_TRUST_ALL_SOURCES: 'true' });
  }, 120_000);
  afterAll(async () => {
    await cdp?.close();
  });

  it("links a browser key's email like a server key's", async () => {
    const browserKey = await createKey(cdp, ['write']);
    const userId = uniqueName('customer');
    const email = `${uniqueName('minh')}@example.vn`;
    await sendWith(cdp.writeKey, [
      { type: 'identify', userId, traits: { email }, timestamp: '2025-05-01T08:00:00.000Z' },
    ]);
    const customer = await profileWith(`user_id:${userId}`, 1);
    const device = uniqueName('device');
    await sendWith(browserKey, [
      { type: 'identify', anonymousId: device, traits: { email }, timestamp: '2025-05-02T08:00:00.000Z' },
    ]);
    await profileWith(`user_id:${userId}`, 2);
    expect((await profileFound(`anonymous_id:${device}`)).profileId).toBe(customer.profileId);
  });
});
