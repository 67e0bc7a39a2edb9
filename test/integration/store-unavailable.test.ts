// ClickHouse gone from under a running platform: reads answer 503 STORE_UNAVAILABLE with Retry-After, never a 500, and
// ingest keeps taking events from the keys it knows: the event log, not ClickHouse, stands behind its 200.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/runtime';
import { read, send } from '../harness/http';
import { startTestPlatform, type TestPlatform } from '../harness/platform';

describe('the platform when ClickHouse stops answering', () => {
  let cdp: TestPlatform;

  beforeAll(async () => {
    cdp = await startTestPlatform('embedded', {}, ['ingest', 'query-api']);
    // Answers while the store is there; the key is known from now on.
    expect((await read(cdp.url, '/v1/analytics/kpis?from=2025-01-01&to=2025-02-01', cdp.readKey)).status).toBe(200);
    expect(
      (await send(cdp.url, '/v1/track', { userId: 'ada', event: 'Signed Up' }, { writeKey: cdp.writeKey })).status,
    ).toBe(200);
    await cdp.platform.clickhouse.close();
  }, 120_000);
  afterAll(async () => {
    await cdp?.platform.app?.close();
  });

  it.each([
    '/v1/analytics/kpis?from=2025-01-01&to=2025-02-01',
    '/v1/analytics/kpis/series?from=2025-01-01&to=2025-02-01',
    '/v1/analytics/open-tickets',
    '/v1/segments',
    '/v1/profiles/user_id:ada',
  ])('GET %s answers 503 STORE_UNAVAILABLE with Retry-After', async (path) => {
    // Computed now: the KPIs asked before the store went are otherwise shared for a while.
    const response = await fetch(`${cdp.url}${path}`, {
      headers: { authorization: `Bearer ${cdp.readKey}`, 'cache-control': 'no-cache' },
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });

  it('accepts events from a known write key, and answers a key it cannot check with 503 STORE_UNAVAILABLE', async () => {
    const accepted = await send(
      cdp.url,
      '/v1/track',
      { userId: 'ada', event: 'Order Completed', properties: { revenue: 10 } },
      { writeKey: cdp.writeKey },
    );
    expect(accepted.status).toBe(200);
    // A miss is remembered for a moment (401); once the key store would look again, it cannot, and says so.
    const unknown = () =>
      send(cdp.url, '/v1/track', { userId: 'ada', event: 'Order Completed' }, { writeKey: 'wk_never_seen' });
    const answer = await waitFor(
      async () => {
        const response = await unknown();
        return response.status === 401 ? undefined : response;
      },
      { timeoutMs: 10_000, what: 'the key store to look again' },
    );
    expect([answer.status, answer.body.code, answer.headers.get('retry-after')]).toEqual([
      503,
      'STORE_UNAVAILABLE',
      '5',
    ]);
  });

  it('says it is not ready', async () => {
    const response = await read(cdp.url, '/readyz');
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ checks: { clickhouse: false } });
  });
});
