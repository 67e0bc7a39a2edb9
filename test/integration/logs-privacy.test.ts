// A run's logs, at debug level, hold no customer's email or phone: not from lookups, not from refusals, not from a
// store that stopped answering (whose errors quote the failed query's parameters).
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/runtime';
import { read, send } from '../harness/http';
import { startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';

describe('personal data in logs', () => {
  let cdp: TestPlatform;
  const lines: string[] = [];
  const logs = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const email = `${uniqueName('logged')}@example.com`;
  const phone = '+84987654321';
  const userId = uniqueName('logged-user');

  beforeAll(async () => {
    cdp = await startTestPlatform('embedded', { LOG_LEVEL: 'debug' }, ['ingest', 'resolver', 'query-api'], logs);
  }, 120_000);
  afterAll(async () => {
    await cdp?.platform.app.close();
  });

  it('logs lookups, refusals and a store outage without the email or phone they were about', async () => {
    expect(
      (await send(cdp.url, '/v1/identify', { userId, traits: { email, phone } }, { writeKey: cdp.writeKey })).status,
    ).toBe(200);
    expect(
      (
        await send(
          cdp.url,
          '/v1/track',
          { userId, traits: { email }, properties: { phone } },
          { writeKey: cdp.writeKey },
        )
      ).status,
    ).toBe(400);
    await waitFor(
      async () => (await read(cdp.url, `/v1/profiles/email:${encodeURIComponent(email)}`, cdp.readKey)).status === 200,
      { timeoutMs: 30_000, what: 'the profile' },
    );
    expect((await read(cdp.url, `/v1/profiles/phone:${encodeURIComponent(phone)}`, cdp.readKey)).status).toBe(200);
    expect((await read(cdp.url, `/v1/profiles/email:${encodeURIComponent(`x${email}`)}`, cdp.readKey)).status).toBe(
      404,
    );

    // The store goes away under a lookup: the 503 is logged, with its reason.
    await cdp.platform.clickhouse.close();
    expect((await read(cdp.url, `/v1/profiles/email:${encodeURIComponent(email)}`, cdp.readKey)).status).toBe(503);
    expect((await read(cdp.url, `/v1/profiles/phone:${encodeURIComponent(phone)}/events`, cdp.readKey)).status).toBe(
      503,
    );

    const text = lines.join('');
    expect(text).toContain('STORE_UNAVAILABLE');
    expect(text).toContain('GET /v1/profiles/:ref');
    for (const value of [email, encodeURIComponent(email), phone, encodeURIComponent(phone), phone.slice(1), userId])
      expect(text, value).not.toContain(value);
  });
});
