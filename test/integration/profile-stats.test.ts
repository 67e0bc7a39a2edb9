// Every stat and trait of every generated customer's profile equals a plain recomputation from the messages sent,
// with retries (also after merges) and events stored before their profiles merged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/runtime';
import { generateCustomers, rng } from '../generators/customers';
import { expectedProfile, type ExpectedProfile } from '../reference/profile-stats';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import { counterOf, eventsHandled, read, send } from '../harness/http';

const data = generateCustomers({ customers: 120, seed: 23, prefix: uniqueName('stats'), eventsPerCustomer: 30 });
// Retries that arrive late, after the identify that merged their anonymous profile into the customer's.
const random = rng(5);
const lateRetries = data.messages.filter(() => random() < 0.05);
const sent = data.messages.length + lateRetries.length;

const round = (profile: ExpectedProfile['stats']) => ({ ...profile, revenue: Math.round(profile.revenue * 100) / 100 });

describe.each(runtimes)('profile stats and traits on the %s runtime', (runtime) => {
  let cdp: TestPlatform;

  beforeAll(async () => {
    cdp = await startTestPlatform(runtime);
    const messages = [...data.messages, ...lateRetries];
    for (let offset = 0; offset < messages.length; offset += 250) {
      const response = await send(
        cdp.url,
        '/v1/batch',
        { batch: messages.slice(offset, offset + 250) },
        { writeKey: cdp.writeKey },
      );
      expect(response.status, JSON.stringify(response.body)).toBe(200);
    }
    // Retries, late or not, are later copies of stored messageIds: the resolver drops them, and counts them so.
    await waitFor(async () => (await eventsHandled(cdp.url)) >= sent, {
      timeoutMs: 120_000,
      intervalMs: 200,
      what: `the resolver to handle all ${sent} messages sent`,
    });
    expect(await counterOf(cdp.url, 'cdp_resolver_events_written_total')).toBe(data.distinctMessages);
    expect(await counterOf(cdp.url, 'cdp_resolver_events_duplicate_total')).toBe(sent - data.distinctMessages);
  }, 180_000);
  afterAll(async () => {
    await cdp?.close();
  });

  it('answers each customer with exactly the stats and latest traits their messages give', async () => {
    for (const [index, truth] of data.truth.entries()) {
      const expected = expectedProfile(data.messages.filter((_, position) => data.customerOf[position] === index));
      // Any identifier reaches the whole profile; use the weakest, a device's anonymous id.
      const ref = truth.identifiers.find((identifier) => identifier.startsWith('anonymous_id:')) as string;
      const response = await read(cdp.url, `/v1/profiles/${encodeURIComponent(ref)}`, cdp.readKey);
      const actual = { stats: round(response.body.stats as ExpectedProfile['stats']), traits: response.body.traits };
      const wanted = { stats: round(expected.stats), traits: expected.traits };
      expect(actual, ref).toEqual(wanted);
    }
  });

  it('covers the cases that matter: merges, retries, resolved and open tickets, both surveys', () => {
    const expected = data.truth.map((_, index) =>
      expectedProfile(data.messages.filter((__, position) => data.customerOf[position] === index)),
    );
    expect(
      data.truth.filter((truth) => truth.identifiers.filter((id) => id.startsWith('anonymous_id:')).length > 1).length,
    ).toBeGreaterThan(10);
    expect(lateRetries.length).toBeGreaterThan(50);
    expect(expected.filter((profile) => profile.stats.openTickets > 0).length).toBeGreaterThan(10);
    expect(data.messages.some((message) => message.event === 'Ticket Resolved')).toBe(true);
    expect(
      expected.filter((profile) => profile.stats.latestNps !== null && profile.stats.latestCsat !== null).length,
    ).toBeGreaterThan(10);
  });
});
