// Analytics answers are shared for a while (CDP_ANALYTICS_CACHE_SECONDS), say their age, and a client that asks for
// a fresh one (Cache-Control: no-cache) gets the data as it is now.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/runtime';
import { startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import { read, send } from '../harness/http';

// A month no other suite sends events in: the store is shared by the suites of one worker.
const window = 'from=2019-07-01&to=2019-08-01&tz=UTC';

describe('the analytics answers', () => {
  let cdp: TestPlatform;

  beforeAll(async () => {
    cdp = await startTestPlatform('embedded', { CDP_ANALYTICS_CACHE_SECONDS: '600' });
  }, 120_000);
  afterAll(async () => {
    await cdp?.close();
  });

  /** An order of a new customer in the window, once its profile shows it. */
  async function order(revenue: number): Promise<void> {
    const userId = uniqueName('cached');
    const message = { userId, event: 'Order Completed', properties: { revenue }, timestamp: '2019-07-10T10:00:00Z' };
    expect((await send(cdp.url, '/v1/track', message, { writeKey: cdp.writeKey })).status).toBe(200);
    await waitFor(
      async () => {
        const profile = await read(cdp.url, `/v1/profiles/user_id:${userId}`, cdp.readKey);
        return (profile.body.stats as { orders?: number } | undefined)?.orders === 1 ? true : undefined;
      },
      { timeoutMs: 60_000, what: `the order of ${userId}` },
    );
  }

  async function kpis(headers: Record<string, string> = {}): Promise<{ orders: number; revenue: number; age: number }> {
    const response = await fetch(`${cdp.url}/v1/analytics/kpis?${window}`, {
      headers: { authorization: `Bearer ${cdp.readKey}`, ...headers },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { totals: { orders: number; revenue: number } };
    return { orders: body.totals.orders, revenue: body.totals.revenue, age: Number(response.headers.get('age')) };
  }

  it('shares an answer until a client asks for a fresh one, which is then the one shared', async () => {
    await order(10);
    expect(await kpis()).toEqual({ orders: 1, revenue: 10, age: 0 });

    await order(32);
    const shared = await kpis();
    expect(shared).toMatchObject({ orders: 1, revenue: 10 });
    expect(shared.age).toBeGreaterThanOrEqual(0);

    expect(await kpis({ 'cache-control': 'no-cache' })).toEqual({ orders: 2, revenue: 42, age: 0 });
    expect(await kpis()).toMatchObject({ orders: 2, revenue: 42 });
    expect(await kpis({ pragma: 'no-cache' })).toEqual({ orders: 2, revenue: 42, age: 0 });
  });

  it('keeps no answer of a question that failed, and answers a bad question with a 400 each time', async () => {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const response = await read(cdp.url, `/v1/analytics/kpis?${window}&tz=Mars/Olympus`, cdp.readKey);
      expect(response.status).toBe(400);
    }
  });
});
