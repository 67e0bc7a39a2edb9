// The edge of ingest: client IP and user agent in context, CORS preflight, 429 per write key, 503 under pressure or without a log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMetrics, waitFor } from '@cdp/runtime';
import { topicNames } from '@cdp/schemas';
import { start as startIngest } from '@cdp/ingest';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import { send } from '../harness/http';
import { storedContext, storedCounts, waitForStored } from '../clients/store';

const iphoneSafari =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

describe('client IP, user agent and CORS', () => {
  let direct: TestPlatform;
  let proxied: TestPlatform;

  beforeAll(async () => {
    direct = await startTestPlatform('embedded');
    proxied = await startTestPlatform('embedded', { CDP_TRUSTED_PROXIES: '127.0.0.1/32' });
  });
  afterAll(async () => {
    await direct?.close();
    await proxied?.close();
  });

  it('believes X-Forwarded-For only from a trusted proxy, keeps an SDK-stated ip, and parses the user agent', async () => {
    const ids = { direct: uniqueName('msg'), proxied: uniqueName('msg'), stated: uniqueName('msg') };
    const headers = { 'x-forwarded-for': '203.0.113.7', 'user-agent': iphoneSafari };
    const track = (cdp: TestPlatform, messageId: string, context: Record<string, unknown> = {}) =>
      send(
        cdp.url,
        '/v1/track',
        {
          userId: 'u',
          event: 'E',
          messageId,
          context: { library: { name: 'analytics.js', version: '1.2.3' }, ...context },
        },
        { writeKey: cdp.writeKey, headers },
      );
    expect((await track(direct, ids.direct)).status).toBe(200);
    expect((await track(proxied, ids.proxied)).status).toBe(200);
    expect((await track(proxied, ids.stated, { ip: '198.51.100.9' })).status).toBe(200);
    await waitForStored(direct, [ids.direct]);
    await waitForStored(proxied, [ids.proxied, ids.stated]);

    const spoofed = await storedContext(direct, ids.direct);
    expect(spoofed.ip).toBe('127.0.0.1');
    expect(spoofed.library).toEqual({ name: 'analytics.js', version: '1.2.3' });
    expect(spoofed.userAgent).toBe(iphoneSafari);
    expect(spoofed.parsedUserAgent).toEqual({
      browser: { name: 'Mobile Safari', version: '17.4' },
      os: { name: 'iOS', version: '17.4' },
      device: { type: 'mobile', vendor: 'Apple', model: 'iPhone' },
      engine: { name: 'WebKit', version: '605.1.15' },
    });
    expect((await storedContext(proxied, ids.proxied)).ip).toBe('203.0.113.7');
    expect((await storedContext(proxied, ids.stated)).ip).toBe('198.51.100.9');
  });

  it('serves browser SDK settings per write key, pointing back at the host and scheme the browser used', async () => {
    const segment = await fetch(`${direct.url}/v1/projects/${direct.writeKey}/settings`, {
      headers: { origin: 'https://shop.example' },
    });
    expect(segment.status).toBe(200);
    expect(segment.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(await segment.json()).toMatchObject({
      integrations: {
        'Segment.io': { apiKey: direct.writeKey, apiHost: `${new URL(direct.url).host}/v1`, protocol: 'http' },
      },
      metrics: { sampleRate: 0 },
    });
    // Behind a trusted proxy, the host and scheme it was reached by.
    const forwarded = await fetch(`${proxied.url}/v1/projects/${proxied.writeKey}/settings`, {
      headers: { 'x-forwarded-host': 'cdp.example.com', 'x-forwarded-proto': 'https' },
    });
    expect(((await forwarded.json()) as { integrations: Record<string, unknown> }).integrations['Segment.io']).toEqual({
      apiKey: proxied.writeKey,
      apiHost: 'cdp.example.com/v1',
      protocol: 'https',
    });
    expect((await fetch(`${direct.url}/v1/projects/wk_unknown/settings`)).status).toBe(401);

    const basic = `Basic ${Buffer.from(`${direct.writeKey}:`).toString('base64')}`;
    const byHeader = await fetch(`${direct.url}/sourceConfig/?p=npm&v=3.34.1`, { headers: { authorization: basic } });
    const byParameter = await fetch(`${direct.url}/sourceConfig?writeKey=${direct.writeKey}`);
    for (const answer of [byHeader, byParameter]) {
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({
        source: { writeKey: direct.writeKey, enabled: true, destinations: [], config: {} },
      });
    }
    const missing = await fetch(`${direct.url}/sourceConfig/`);
    expect([missing.status, ((await missing.json()) as { code: string }).code]).toEqual([401, 'MISSING_WRITE_KEY']);
    expect((await fetch(`${direct.url}/sourceConfig/?writeKey=wk_unknown`)).status).toBe(401);
  });

  it('answers a browser preflight for any origin with the headers analytics.js sends', async () => {
    const response = await fetch(`${direct.url}/v1/t`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-retry-count',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')).toBe('authorization,content-type,x-retry-count');
    const post = await send(
      direct.url,
      '/v1/track',
      { userId: 'u', event: 'E' },
      { writeKey: direct.writeKey, headers: { origin: 'https://shop.example' } },
    );
    expect(post.headers.get('access-control-allow-origin')).toBe('https://shop.example');
  });
});

describe('pressure', () => {
  it('answers 429 with Retry-After past the per-key rate, and stores exactly the accepted requests', async () => {
    const cdp = await startTestPlatform('embedded', { CDP_RATE_LIMIT_PER_SECOND: '5' });
    try {
      const ids = Array.from({ length: 30 }, () => uniqueName('msg'));
      const responses = await Promise.all(
        ids.map((messageId) =>
          send(cdp.url, '/v1/track', { userId: 'u', event: 'E', messageId }, { writeKey: cdp.writeKey }),
        ),
      );
      const accepted = ids.filter((_, index) => responses[index]?.status === 200);
      const limited = responses.filter((response) => response.status === 429);
      expect(accepted.length + limited.length).toBe(ids.length);
      expect(limited.length).toBeGreaterThan(0);
      expect(limited[0]?.body).toMatchObject({
        code: 'RATE_LIMITED',
        message: expect.stringMatching(/more than 5 requests per second/),
      });
      expect(Number(limited[0]?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // A key carried in the body (browsers) is limited the same way.
      const inBody = await send(cdp.url, '/v1/track', { userId: 'u', event: 'E', writeKey: cdp.writeKey });
      expect([200, 429]).toContain(inBody.status);
      const counts = await waitForStored(cdp, accepted, ids);
      expect([...counts.keys()].sort()).toEqual([...accepted].sort());
    } finally {
      await cdp.close();
    }
  });

  it('answers 503 with Retry-After while the heap is over its limit, and keeps health up', async () => {
    const cdp = await startTestPlatform('embedded', { CDP_MAX_HEAP_USED_MB: '1' });
    try {
      // The heap is sampled every second; the first sample turns every ingest request away.
      const refused = await waitFor(
        async () => {
          const response = await send(cdp.url, '/v1/track', { userId: 'u', event: 'E' }, { writeKey: cdp.writeKey });
          return response.status === 503 ? response : undefined;
        },
        { what: 'a 503 under memory pressure' },
      );
      expect(refused.body).toMatchObject({ code: 'OVERLOADED', message: expect.stringMatching(/heapUsedBytes/) });
      expect(refused.headers.get('retry-after')).toBe('5');
      expect((await fetch(`${cdp.url}/healthz`)).status).toBe(200);
    } finally {
      await cdp.close();
    }
  });

  it('answers 503 while the event loop lags, then recovers', async () => {
    const cdp = await startTestPlatform('embedded', { CDP_MAX_EVENT_LOOP_DELAY_MS: '100' });
    try {
      const track = () => send(cdp.url, '/v1/track', { userId: 'u', event: 'E' }, { writeKey: cdp.writeKey });
      expect((await track()).status).toBe(200);
      // The platform runs in this process: busy stretches of 200 ms here are an event-loop lag of the server. The
      // loop yields between them, so requests and the pressure sampler still run, as on a server that is overloaded.
      let lagging = true;
      const lag = (async () => {
        while (lagging) {
          const busyUntil = Date.now() + 200;
          while (Date.now() < busyUntil) {
            // busy on purpose
          }
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      const refused = await waitFor(
        async () => {
          const response = await track();
          return response.status === 503 ? response : undefined;
        },
        { what: 'a 503 during an event-loop lag' },
      ).finally(() => {
        lagging = false;
      });
      await lag;
      expect(refused.body).toMatchObject({ code: 'OVERLOADED', message: expect.stringMatching(/eventLoopDelay/) });
      expect(refused.headers.get('retry-after')).toBe('5');
      await waitFor(async () => (await track()).status === 200, { what: 'ingest to recover' });
    } finally {
      await cdp.close();
    }
  });
});

describe.each(runtimes)('a log that refuses appends on the %s runtime', (runtime) => {
  let cdp: TestPlatform;

  beforeAll(async () => {
    cdp = await startTestPlatform(runtime);
  });
  afterAll(async () => {
    await cdp?.close();
  });

  it('answers 503 with Retry-After, never hangs, and stores nothing', { timeout: 30_000 }, async () => {
    // A second ingest on the platform's real log, writing to a topic that was never created.
    const ingest = await startIngest({
      log: cdp.platform.log!,
      topics: topicNames(`${uniqueName('missing')}.`),
      keys: cdp.platform.keys,
      metrics: createMetrics(),
      logger: createLogger({ level: 'silent', name: 'test-ingest' }),
      host: '127.0.0.1',
      port: 0,
    });
    try {
      const messageId = uniqueName('msg');
      const response = await send(
        ingest.url,
        '/v1/batch',
        { batch: [{ type: 'track', userId: 'u', event: 'E', messageId }] },
        { writeKey: cdp.writeKey },
      );
      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({ code: 'LOG_UNAVAILABLE' });
      expect(response.headers.get('retry-after')).toBe('5');
      expect((await storedCounts(cdp, [messageId])).size).toBe(0);
      // The platform's own ingest still works.
      const ok = uniqueName('msg');
      expect(
        (await send(cdp.url, '/v1/track', { userId: 'u', event: 'E', messageId: ok }, { writeKey: cdp.writeKey }))
          .status,
      ).toBe(200);
      await waitForStored(cdp, [ok]);
    } finally {
      await ingest.close();
    }
  });
});
