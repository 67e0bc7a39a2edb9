// RudderStack's Node SDK, unchanged and with its defaults (gzip, batching), pointed at ingest: every call of every type stored once.
import { gunzipSync } from 'node:zlib';
import Analytics from '@rudderstack/rudder-sdk-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import { deliveries, startFaultyProxy } from '../clients/proxy';
import { storedContext, waitForStored } from '../clients/store';

interface SentBatch {
  batch: Array<{ messageId: string; type: string }>;
}

/** What a flush sent, as the SDK hands it to the callbacks: the gzipped JSON body of the request. */
const sentBatch = (data: unknown): SentBatch =>
  JSON.parse(Buffer.isBuffer(data) ? gunzipSync(data).toString('utf8') : JSON.stringify(data)) as SentBatch;

describe.each(runtimes)('@rudderstack/rudder-sdk-node on the %s runtime', (runtime) => {
  let cdp: TestPlatform;

  beforeAll(async () => {
    cdp = await startTestPlatform(runtime);
  });
  afterAll(async () => {
    await cdp?.close();
  });

  it('delivers identify, track, page, screen, group and alias in gzipped batches, each stored once', async () => {
    const errors: unknown[] = [];
    const client = new Analytics(cdp.writeKey, {
      dataPlaneUrl: cdp.url,
      flushAt: 7,
      flushInterval: 60_000,
      retryCount: 0,
      errorHandler: (error) => errors.push(error),
    });
    const sent = new Map<string, string>();
    // Every call's callback runs once its batch is answered: the SDK is done when all have.
    let answered = 0;
    let allAnswered: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (allAnswered = resolve));
    const record = (error?: Error, data?: unknown) => {
      if (error) errors.push(error);
      else for (const message of sentBatch(data).batch) sent.set(message.messageId, message.type);
      if (++answered === 30) allAnswered();
    };
    const expected = new Map<string, number>();
    const count = (type: string) => expected.set(type, (expected.get(type) ?? 0) + 1);
    for (let person = 0; person < 5; person += 1) {
      const userId = uniqueName('rudder_user');
      const anonymousId = uniqueName('rudder_anon');
      client.identify({ userId, traits: { email: `${userId}@example.com`, plan: 'pro' } }, record);
      client.track({ userId, event: 'Order Completed', properties: { revenue: 250_000, currency: 'VND' } }, record);
      client.page({ anonymousId, name: 'Pricing', properties: { url: 'https://example.com/pricing' } }, record);
      client.screen({ userId, name: 'Home' }, record);
      client.group({ userId, groupId: uniqueName('org'), traits: { name: 'Acme' } }, record);
      client.alias({ userId, previousId: anonymousId }, record);
      for (const type of ['identify', 'track', 'page', 'screen', 'group', 'alias']) count(type);
    }
    const total = [...expected.values()].reduce((sum, n) => sum + n, 0);
    expect(total).toBe(30);
    // The last partial batch waits for the flush interval unless flushed.
    await client.flush();
    await done;

    expect(errors).toEqual([]);
    expect(sent.size).toBe(total);
    const counts = await waitForStored(cdp, [...sent.keys()]);
    expect([...counts.values()].every((rows) => rows === 1)).toBe(true);
    const types = new Map<string, number>();
    for (const type of sent.values()) types.set(type, (types.get(type) ?? 0) + 1);
    expect(types).toEqual(expected);
    const context = await storedContext(cdp, [...sent.keys()][1] as string);
    expect(context.library).toMatchObject({ name: 'analytics-node' });
  });

  it('with its default retries, resends a batch answered 503 before and after ingest stored it, stored once', async () => {
    const proxy = await startFaultyProxy(cdp.url, ['refuse', 'lose']);
    const errors: unknown[] = [];
    const client = new Analytics(cdp.writeKey, {
      dataPlaneUrl: proxy.url,
      flushInterval: 60_000,
      errorHandler: (error) => errors.push(error),
    });
    const ids = new Set<string>();
    const answered: Array<Promise<void>> = [];
    for (let n = 0; n < 10; n += 1) {
      answered.push(
        new Promise((resolve) =>
          client.track(
            { userId: uniqueName('rudder_retry_user'), event: 'Plan Selected' },
            (error?: Error, data?: unknown) => {
              if (error) errors.push(error);
              else for (const message of sentBatch(data).batch) ids.add(message.messageId);
              resolve();
            },
          ),
        ),
      );
    }
    await client.flush();
    await Promise.all(answered).finally(() => proxy.close());

    expect(errors).toEqual([]);
    const { statuses, faulted, delivered } = deliveries(proxy);
    expect(statuses.slice(0, 2)).toEqual([503, 503]);
    expect(faulted.filter((id) => !delivered.has(id))).toEqual([]);
    const counts = await waitForStored(cdp, [...ids]);
    expect([ids.size, [...counts.values()].every((rows) => rows === 1)]).toEqual([10, true]);
  });
});
