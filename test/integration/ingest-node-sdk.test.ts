// Segment's own Node SDK, unchanged, pointed at ingest: every call of every type is stored exactly once.
import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { named } from '@cdp/runtime';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import { deliveries, startFaultyProxy } from '../clients/proxy';
import { storedContext, waitForStored } from '../clients/store';

describe.each(runtimes)('@segment/analytics-node on the %s runtime', (runtime) => {
  let cdp: TestPlatform;

  beforeAll(async () => {
    cdp = await startTestPlatform(runtime);
  });
  afterAll(async () => {
    await cdp?.close();
  });

  it('delivers identify, track, page, screen, group and alias in batches, each stored once', async () => {
    // flushAt 7 with 40 calls: several full batches and a partial one sent on close.
    const analytics = new Analytics({
      writeKey: cdp.writeKey,
      host: cdp.url,
      flushAt: 7,
      flushInterval: 60_000,
      maxRetries: 2,
    });
    const sent: string[] = [];
    const statuses: number[] = [];
    const errors: unknown[] = [];
    for (const type of ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const) {
      analytics.on(type, (context) => sent.push(context.event.messageId as string));
    }
    analytics.on('http_response', (response) => statuses.push(response.status));
    analytics.on('error', (error) => errors.push(error));

    const expectedTypes = new Map<string, number>();
    const count = (type: string) => expectedTypes.set(type, (expectedTypes.get(type) ?? 0) + 1);
    for (let person = 0; person < 5; person += 1) {
      const userId = uniqueName('sdk_user');
      const anonymousId = uniqueName('sdk_anon');
      analytics.identify({ userId, traits: { email: `${userId}@example.com`, plan: 'pro' } });
      count('identify');
      for (let step = 0; step < 3; step += 1) {
        analytics.track({ userId, event: 'Product Viewed', properties: { sku: `sku-${step}`, price: 10 + step } });
        count('track');
      }
      analytics.page({ anonymousId, name: 'Pricing', properties: { url: 'https://example.com/pricing' } });
      analytics.screen({ userId, name: 'Home' });
      analytics.group({ userId, groupId: uniqueName('org'), traits: { name: 'Acme' } });
      analytics.alias({ userId, previousId: anonymousId });
      for (const type of ['page', 'screen', 'group', 'alias']) count(type);
    }
    await analytics.closeAndFlush({ timeout: 30_000 });
    const total = [...expectedTypes.values()].reduce((sum, n) => sum + n, 0);

    expect(errors).toEqual([]);
    expect(statuses.length).toBeGreaterThanOrEqual(Math.ceil(total / 7));
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(new Set(sent).size).toBe(total);

    const counts = await waitForStored(cdp, sent);
    expect([...counts.values()].every((rows) => rows === 1)).toBe(true);
    expect(counts.size).toBe(total);
    const stored = await cdp.platform.clickhouse.client.query(
      named('test.countByType', {
        query: 'SELECT type, toUInt32(count()) AS n FROM events WHERE message_id IN {ids:Array(String)} GROUP BY type',
        query_params: { ids: sent },
        format: 'JSONEachRow',
      }),
    );
    const byType = Object.fromEntries(
      (await stored.json<{ type: string; n: number }>()).map((row) => [row.type, Number(row.n)]),
    );
    expect(byType).toEqual(Object.fromEntries(expectedTypes));

    const context = await storedContext(cdp, sent[0] as string);
    expect(context.library).toEqual({
      name: '@segment/analytics-node',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
    expect(context.ip).toBe('127.0.0.1');
  });

  it('with its defaults, resends the batches answered 503 (before and after ingest stored them), each stored once', async () => {
    const proxy = await startFaultyProxy(cdp.url, ['refuse', 'lose']);
    const analytics = new Analytics({ writeKey: cdp.writeKey, host: proxy.url });
    const sent: string[] = [];
    const errors: unknown[] = [];
    analytics.on('identify', (context) => sent.push(context.event.messageId as string));
    analytics.on('track', (context) => sent.push(context.event.messageId as string));
    analytics.on('error', (error) => errors.push(error));
    for (let n = 0; n < 20; n += 1) {
      const userId = uniqueName('retry_user');
      analytics.identify({ userId, traits: { plan: 'pro' } });
      analytics.track({ userId, event: 'Plan Selected' });
    }
    await analytics.closeAndFlush({ timeout: 30_000 }).finally(() => proxy.close());

    expect(errors).toEqual([]);
    const { statuses, faulted, delivered } = deliveries(proxy);
    expect(statuses.slice(0, 2)).toEqual([503, 503]);
    expect(faulted.filter((id) => !delivered.has(id))).toEqual([]);
    const counts = await waitForStored(cdp, sent);
    expect([sent.length, [...counts.values()].every((rows) => rows === 1)]).toEqual([40, true]);
  });
});
