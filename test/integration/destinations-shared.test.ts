// Two destinations instances on the Kafka runtime, in one consumer group over one store: every event trigger and every
// follow-up is delivered at least once, a repeat carries the same Idempotency-Key and body, and both instances send.
// The destination is saved through the platform's API just before the events: the extra instance, told of no change,
// must read the definitions again for the records it holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, waitFor, type Metrics } from '@cdp/runtime';
import { send } from '../harness/http';
import { startExtraDestinations, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import { startReceiver, type WebhookReceiver } from '../harness/webhook-receiver';

/** Customers, each with one event trigger and one follow-up: twice as many deliveries. */
const customers = 20;

async function delivered(metrics: Metrics): Promise<number> {
  const metric = metrics.registry.getSingleMetric('cdp_destination_deliveries_total');
  const { values } = (await metric?.get()) ?? { values: [] };
  return values.filter((value) => value.labels.outcome === 'delivered').reduce((sum, value) => sum + value.value, 0);
}

describe('destinations shared by two instances on the kafka runtime', () => {
  let cdp: TestPlatform;
  let receiver: WebhookReceiver;
  let stopExtra: () => Promise<void>;
  const extraMetrics = createMetrics();

  beforeAll(async () => {
    cdp = await startTestPlatform('kafka', {
      // The receiver listens on loopback, which destinations refuse unless allowed.
      CDP_DESTINATIONS_ALLOW: '127.0.0.0/8,::1',
      CDP_DESTINATIONS_POLL_MS: '100',
      CDP_DESTINATIONS_TIMER_POLL_MS: '200',
      // A delivery tried before the resolver placed its new customer is tried again soon, not minutes later.
      CDP_DESTINATIONS_BACKOFF_BASE_MS: '200',
      CDP_DESTINATIONS_BACKOFF_MAX_MS: '1000',
    });
    stopExtra = await startExtraDestinations(cdp, extraMetrics);
    receiver = await startReceiver();
  }, 180_000);
  afterAll(async () => {
    await receiver?.close();
    await stopExtra?.();
    await cdp?.close();
  });

  it('delivers every event trigger and follow-up at least once, and both instances send', async () => {
    const created = await fetch(`${cdp.url}/v1/destinations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cdp.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: uniqueName('shared'),
        url: receiver.url,
        secret: 'whsec_shared_secret_0123456789',
        triggers: [
          { kind: 'event', event: 'Shared Ping' },
          { kind: 'followUp', event: 'Shared Order', after: { value: 2, unit: 'seconds' } },
        ],
      }),
    });
    expect(created.status).toBe(201);
    const users = Array.from({ length: customers }, () => uniqueName('shared_user'));
    const batch = users.flatMap((userId) => [
      { type: 'track', userId, event: 'Shared Ping', properties: {} },
      { type: 'track', userId, event: 'Shared Order', properties: {} },
    ]);
    expect((await send(cdp.url, '/v1/batch', { batch }, { writeKey: cdp.writeKey })).status).toBe(200);

    const keysSeen = () => new Set(receiver.requests.map((request) => request.headers['idempotency-key']));
    await waitFor(() => keysSeen().size >= customers * 2, {
      timeoutMs: 120_000,
      what: `${customers * 2} distinct deliveries`,
    });
    const bodies = new Map<string, Set<string>>();
    for (const request of receiver.requests) {
      const key = String(request.headers['idempotency-key']);
      bodies.set(key, (bodies.get(key) ?? new Set()).add(request.body));
    }
    expect(bodies.size).toBe(customers * 2);
    // A repeat (a rebalance moving a share mid-send) carries the same key and the same body; repeats stay rare.
    for (const sent of bodies.values()) expect(sent.size).toBe(1);
    expect(receiver.requests.length - bodies.size).toBeLessThanOrEqual(customers / 5);
    const kinds = receiver.requests.map(
      (request) => (JSON.parse(request.body) as { trigger: { kind: string } }).trigger.kind,
    );
    expect(kinds.filter((kind) => kind === 'followUp').length).toBeGreaterThanOrEqual(customers);
    expect(await delivered(cdp.platform.metrics)).toBeGreaterThan(0);
    expect(await delivered(extraMetrics)).toBeGreaterThan(0);
  }, 150_000);
});
