// ClickHouse gone from under a running query API: every read answers 503 STORE_UNAVAILABLE with Retry-After, never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { read } from '../harness/http';
import { startTestPlatform, type TestPlatform } from '../harness/platform';

describe('the query API when ClickHouse stops answering', () => {
  let cdp: TestPlatform;

  beforeAll(async () => {
    cdp = await startTestPlatform('embedded', {}, ['query-api']);
    // Answers while the store is there; the key is known from now on.
    expect((await read(cdp.url, '/v1/analytics/kpis?from=2025-01-01&to=2025-02-01', cdp.readKey)).status).toBe(200);
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
    const response = await fetch(`${cdp.url}${path}`, { headers: { authorization: `Bearer ${cdp.readKey}` } });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });

  it('says it is not ready', async () => {
    const response = await read(cdp.url, '/readyz');
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ checks: { clickhouse: false } });
  });
});
