// The demo data set sent through the public API of an embedded platform: stored once, idempotent, counted and merged right.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { named, waitFor } from '@cdp/runtime';
import { customersOf, generateDemo, sendDemo } from '@cdp/cdp/demo';
import { startTestPlatform, type TestPlatform } from '../harness/platform';
import { counterOf, eventsHandled, read } from '../harness/http';

const options = { customers: 150, months: 3, seed: 7, now: Date.now() };
const dayMs = 86_400_000;

describe('the demo data set on the embedded runtime', () => {
  let cdp: TestPlatform;
  const messages = [...generateDemo(options)].flat();
  const ids = messages.map((message) => message.messageId);

  beforeAll(async () => {
    cdp = await startTestPlatform('embedded');
  });
  afterAll(async () => {
    await cdp?.close();
  });

  /** Distinct messageIds in the events table, and how many of them the demo did not send. */
  async function storedMessages(): Promise<{ distinct: number; unexpected: number }> {
    const result = await cdp.platform.clickhouse.client.query(
      named('test.countStoredMessages', {
        query: `SELECT uniqExact(message_id) AS distinct, uniqExactIf(message_id, NOT has({ids:Array(String)}, message_id)) AS unexpected
              FROM events`,
        query_params: { ids },
        format: 'JSONEachRow',
      }),
    );
    const [row] = await result.json<{ distinct: string | number; unexpected: string | number }>();
    return { distinct: Number(row?.distinct ?? 0), unexpected: Number(row?.unexpected ?? 0) };
  }

  const send = () => sendDemo({ url: cdp.url, writeKey: cdp.writeKey, ...options });

  it('stores every generated message once, and nothing new when the same demo is sent again', async () => {
    expect(new Set(ids).size).toBe(messages.length);
    const before = await eventsHandled(cdp.url);
    expect(await send()).toEqual({ messages: messages.length, customers: options.customers });
    // Counted once the whole batch is written and its changes published, a moment after its rows are readable.
    await waitFor(async () => (await eventsHandled(cdp.url)) >= before + messages.length, {
      timeoutMs: 20_000,
      what: 'the first send handled',
    });
    await waitFor(async () => (await storedMessages()).distinct === messages.length, {
      timeoutMs: 20_000,
      what: `${messages.length} demo messages stored`,
    });
    expect(await storedMessages()).toEqual({ distinct: messages.length, unexpected: 0 });

    const handled = await eventsHandled(cdp.url);
    const duplicates = await counterOf(cdp.url, 'cdp_resolver_events_duplicate_total');
    await send();
    // The second send is all later copies of stored messageIds: the resolver drops each one, and counts it so.
    await waitFor(async () => (await eventsHandled(cdp.url)) >= handled + messages.length, {
      timeoutMs: 20_000,
      what: 'the second send handled',
    });
    expect(await counterOf(cdp.url, 'cdp_resolver_events_duplicate_total')).toBe(duplicates + messages.length);
    expect(await storedMessages()).toEqual({ distinct: messages.length, unexpected: 0 });
    const copies = await cdp.platform.clickhouse.client.query(
      named('test.countCopies', {
        query: 'SELECT count() AS copies FROM events WHERE has({ids:Array(String)}, message_id)',
        query_params: { ids },
        format: 'JSONEachRow',
      }),
    );
    expect(Number((await copies.json<{ copies: string | number }>())[0]?.copies)).toBe(messages.length);
  });

  it('answers the orders and revenue of the generated Order Completed events as KPIs', async () => {
    const orders = messages.filter((message) => message.type === 'track' && message.event === 'Order Completed');
    const revenue = orders.reduce((sum, order) => sum + Number(order.properties?.revenue), 0);
    expect(orders.length).toBeGreaterThan(50);
    const from = new Date(options.now - 400 * dayMs).toISOString().slice(0, 10);
    const to = new Date(options.now + 2 * dayMs).toISOString().slice(0, 10);
    const answer = await read(cdp.url, `/v1/analytics/kpis?from=${from}&to=${to}&tz=UTC`, cdp.readKey);
    expect(answer.status).toBe(200);
    expect(answer.body.totals).toMatchObject({ orders: orders.length, revenue, activeCustomers: options.customers });
  });

  it('resolves each customer found by phone into one profile holding every identifier the demo gave them', async () => {
    const customers = customersOf(messages);
    expect(customers).toHaveLength(options.customers);
    const withPhone = customers.filter((identifiers) => identifiers.some((id) => id.startsWith('phone:')));
    const devices = (identifiers: string[]) => identifiers.filter((id) => id.startsWith('anonymous_id:')).length;
    const member = withPhone
      .filter((identifiers) => identifiers.some((id) => id.startsWith('user_id:')))
      .sort((a, b) => devices(b) - devices(a))[0];
    const storeOnly = withPhone.find(
      (identifiers) =>
        !identifiers.some((id) => id.startsWith('user_id:')) && identifiers.some((id) => id.includes(':pos-')),
    );
    expect(member && devices(member)).toBeGreaterThanOrEqual(2);
    for (const expected of [member, storeOnly]) {
      const phone = (expected as string[]).find((id) => id.startsWith('phone:')) as string;
      const profile = await waitFor(
        async () => {
          const answer = await read(cdp.url, `/v1/profiles/${encodeURIComponent(phone)}`, cdp.readKey);
          const identities = ((answer.body.identities ?? []) as Array<{ type: string; value: string }>)
            .map((identity) => `${identity.type}:${identity.value}`)
            .sort();
          return answer.status === 200 && identities.length === (expected as string[]).length ? identities : undefined;
        },
        { timeoutMs: 10_000, what: `the profile of ${phone}` },
      );
      expect(profile).toEqual(expected);
    }
  });
});
