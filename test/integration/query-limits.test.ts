// Limits on the query API's reads: a preview past its memory limit answers 422 QUERY_TOO_LARGE (never a 500), and one
// key's requests beyond its concurrency limit answer 429 with Retry-After while another key's go through.
// Embedded runtime only: the limits sit between the query API and ClickHouse (chDB here on every runtime); the event
// log, the only part Kafka would change, is not on their path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SegmentRule } from '@cdp/schemas';
import { generateStoredProfiles, insertStoredProfiles } from '../generators/stored-profiles';
import { startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';

const data = generateStoredProfiles({ profiles: 80, seed: 7, prefix: uniqueName('limits') });

describe('query limits', () => {
  let cdp: TestPlatform;
  const call = async (method: string, path: string, key: string, body?: unknown) => {
    const response = await fetch(`${cdp.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body: (await response.json()) as Record<string, unknown>,
    };
  };
  const preview = (rule: SegmentRule, key = cdp.readKey) => call('POST', '/v1/segments/preview', key, { rule });
  // A hundred behaviour conditions, each reading `events` on its own.
  const heavy: SegmentRule = {
    or: Array.from({ length: 100 }, (_, i) => ({ event: `Event ${i}`, atLeast: 1, withinDays: 30 })),
  };
  const light: SegmentRule = { stat: 'orders', gte: 1 };

  beforeAll(async () => {
    // 4 MB: the light rule needs well under it even on a busy machine, the heavy one well over 16.
    cdp = await startTestPlatform(
      'embedded',
      { CDP_PREVIEW_MAX_MEMORY_MB: '4', CDP_PREVIEW_CONCURRENCY_PER_KEY: '1', CDP_QUERY_CONCURRENCY_PER_KEY: '1' },
      ['query-api'],
    );
    await insertStoredProfiles(cdp.platform.clickhouse.client, data);
  });
  afterAll(async () => {
    await cdp?.close();
  });

  it('answers a preview past its memory limit with 422 QUERY_TOO_LARGE saying what to narrow', async () => {
    const answer = await preview(heavy);
    expect(answer).toMatchObject({
      status: 422,
      body: { code: 'QUERY_TOO_LARGE', message: expect.stringMatching(/4 MB memory limit.*fewer conditions/) },
    });
  });

  it('answers requests beyond a key’s concurrency limit 429 with Retry-After; another key is unaffected', async () => {
    const burst = await Promise.all([
      ...Array.from({ length: 6 }, () => preview(light)),
      preview(light, cdp.adminKey),
      call('GET', '/v1/segments', cdp.adminKey),
    ]);
    const own = burst.slice(0, 6);
    expect(own.filter((answer) => answer.status === 200).length).toBeGreaterThanOrEqual(1);
    const limited = own.filter((answer) => answer.status !== 200);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    for (const answer of limited) {
      expect(answer).toMatchObject({ status: 429, retryAfter: '1', body: { code: 'RATE_LIMITED' } });
      expect(answer.body.message).toMatch(/already has 1 previews running/);
    }
    // The other key's preview and read went through, each within its own limit.
    expect(burst.slice(6).map((answer) => answer.status)).toEqual([200, 200]);
    // Finished requests give their places back.
    expect((await preview(light)).status).toBe(200);
    expect((await call('GET', '/v1/segments', cdp.readKey)).status).toBe(200);
  });
});
