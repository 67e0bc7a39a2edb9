// One customer from the tracking API through the log and the resolver to the profile, on both runtimes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/runtime';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import { read, send } from '../harness/http';

describe.each(runtimes)('thin path on the %s runtime', (runtime) => {
  let cdp: TestPlatform;

  beforeAll(async () => {
    cdp = await startTestPlatform(runtime);
  });
  afterAll(async () => {
    await cdp?.close();
  });

  const profileOf = async (ref: string) => read(cdp.url, `/v1/profiles/${encodeURIComponent(ref)}`, cdp.readKey);

  /** Waits until the profile shows the expected number of events (the resolver works asynchronously). */
  const waitForEvents = (ref: string, events: number) =>
    waitFor(
      async () => {
        const response = await profileOf(ref);
        const stats = response.body.stats as { events: number } | undefined;
        return response.status === 200 && stats?.events === events ? response : undefined;
      },
      { timeoutMs: 30_000, what: `${ref} to have ${events} events` },
    );

  it('counts identify, track and batch events of one user on one profile, with first and last seen', async () => {
    const userId = uniqueName('user');
    const times = [
      '2024-03-01T10:00:00.000Z',
      '2024-03-02T11:00:00.000Z',
      '2024-03-03T12:00:00.000Z',
      '2024-03-04T13:00:00.000Z',
    ];
    const identify = await send(
      cdp.url,
      '/v1/identify',
      { userId, traits: { plan: 'pro', name: 'Ada' }, timestamp: times[0] },
      { writeKey: cdp.writeKey },
    );
    expect(identify).toMatchObject({ status: 200, body: { success: true } });
    const track = await send(
      cdp.url,
      '/v1/track',
      { userId, event: 'Product Viewed', timestamp: times[1] },
      { writeKey: cdp.writeKey },
    );
    expect(track.status).toBe(200);
    const batch = await send(
      cdp.url,
      '/v1/batch',
      {
        batch: [
          {
            type: 'track',
            userId,
            event: 'Order Completed',
            properties: { revenue: 42.5, channel: 'store' },
            timestamp: times[2],
          },
          { type: 'page', userId, name: 'Home', timestamp: times[3] },
        ],
      },
      { writeKey: cdp.writeKey },
    );
    expect(batch.status).toBe(200);

    const profile = (await waitForEvents(`user_id:${userId}`, 4)).body;
    expect(profile.profileId).toMatch(/^prf_/);
    expect(profile.traits).toEqual({ plan: 'pro', name: 'Ada' });
    expect(profile.identities).toEqual([{ type: 'user_id', value: userId }]);
    expect(profile.stats).toMatchObject({
      events: 4,
      firstSeen: times[0],
      lastSeen: times[3],
      orders: 1,
      revenue: 42.5,
      lastOrderAt: times[2],
    });
    expect((profile.stats as { channels: string[] }).channels).toContain('store');
  });

  it('counts a retried messageId once', async () => {
    const userId = uniqueName('user');
    const message = { userId, event: 'Signed Up', messageId: uniqueName('msg') };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await send(cdp.url, '/v1/track', message, { writeKey: cdp.writeKey })).status).toBe(200);
    }
    await send(cdp.url, '/v1/track', { userId, event: 'Marker' }, { writeKey: cdp.writeKey });
    // The marker is sent last; once it is counted, every retry before it has been written too.
    await waitFor(
      async () => {
        const events = (await read(cdp.url, `/v1/profiles/user_id:${userId}`, cdp.readKey)).body.stats as
          { events: number } | undefined;
        return events && events.events >= 2 ? events : undefined;
      },
      { timeoutMs: 30_000, what: 'the marker' },
    );
    const stats = (await profileOf(`user_id:${userId}`)).body.stats as { events: number };
    expect(stats.events).toBe(2);
  });

  it('accepts gzip and text/plain bodies and the write key in the body', async () => {
    const userId = uniqueName('user');
    expect(
      (await send(cdp.url, '/v1/track', { userId, event: 'Zipped' }, { writeKey: cdp.writeKey, gzip: true })).status,
    ).toBe(200);
    const beacon = await send(
      cdp.url,
      '/v1/page',
      { anonymousId: 'a1', userId, name: 'Beacon', writeKey: cdp.writeKey },
      { contentType: 'text/plain' },
    );
    expect(beacon.status).toBe(200);
    await waitForEvents(`user_id:${userId}`, 2);
  });

  it('answers a bad body, a missing or wrong key and an unknown route with a clear 4xx', async () => {
    const noKey = await send(cdp.url, '/v1/track', { userId: 'u', event: 'E' });
    expect(noKey.status).toBe(401);
    expect(noKey.body.code).toBe('MISSING_WRITE_KEY');
    const wrongKey = await send(cdp.url, '/v1/track', { userId: 'u', event: 'E' }, { writeKey: 'not-a-key' });
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.body.code).toBe('UNKNOWN_WRITE_KEY');
    const malformed = await send(cdp.url, '/v1/track', null, {
      writeKey: cdp.writeKey,
      raw: '{"userId": "u", "event": ',
    });
    expect(malformed.status).toBe(400);
    expect(String(malformed.body.message)).toMatch(/JSON/);
    const missingEvent = await send(cdp.url, '/v1/track', { userId: 'u' }, { writeKey: cdp.writeKey });
    expect(missingEvent.status).toBe(400);
    expect(missingEvent.body.errors).toEqual([expect.objectContaining({ index: 0, path: 'event' })]);
    const noIdentity = await send(cdp.url, '/v1/identify', { traits: {} }, { writeKey: cdp.writeKey });
    expect(noIdentity.status).toBe(400);
    expect(String(JSON.stringify(noIdentity.body.errors))).toMatch(/userId or anonymousId/);
    const badGzip = await send(cdp.url, '/v1/track', null, {
      writeKey: cdp.writeKey,
      raw: 'not gzip at all',
      headers: { 'content-encoding': 'gzip' },
    });
    expect(badGzip.status).toBe(400);
    expect(String(badGzip.body.message)).toMatch(/gzip/);
    const unknownRoute = await send(cdp.url, '/v1/nope', {}, { writeKey: cdp.writeKey });
    expect(unknownRoute.status).toBe(404);
    expect(unknownRoute.body.code).toBe('NOT_FOUND');
    const oversized = await send(
      cdp.url,
      '/v1/batch',
      { batch: [{ type: 'track', userId: 'u', event: 'E', properties: { blob: 'x'.repeat(600 * 1024) } }] },
      { writeKey: cdp.writeKey },
    );
    expect(oversized.status).toBe(413);
    expect(String(oversized.body.message)).toMatch(/large|limit|KB/i);
    const noReadKey = await read(cdp.url, '/v1/profiles/user_id:u');
    expect(noReadKey.status).toBe(401);
    // A known key without the profiles scope: refused, naming the scope it lacks.
    const writeKeyAsReadKey = await read(cdp.url, '/v1/profiles/user_id:u', cdp.writeKey);
    expect(writeKeyAsReadKey.status).toBe(403);
    expect(writeKeyAsReadKey.body).toMatchObject({ code: 'MISSING_SCOPE', errors: [{ scope: 'profiles' }] });
    const unknownProfile = await read(cdp.url, `/v1/profiles/user_id:${uniqueName('nobody')}`, cdp.readKey);
    expect(unknownProfile.status).toBe(404);
    const badRef = await read(cdp.url, '/v1/profiles/shoe_size:42', cdp.readKey);
    expect(badRef.status).toBe(400);
  });

  it('reaches a profile whose reference is long, and answers an impossible timeline cursor with a 400', async () => {
    const email = `${'long.'.repeat(40)}${uniqueName('mail')}@example.com`;
    expect(`email:${email}`.length).toBeGreaterThan(200);
    expect(
      (
        await send(
          cdp.url,
          '/v1/identify',
          { userId: uniqueName('long'), traits: { email } },
          { writeKey: cdp.writeKey },
        )
      ).status,
    ).toBe(200);
    const profile = await waitForEvents(`email:${email}`, 1);
    expect(profile.body.identities).toContainEqual({ type: 'email', value: email });
    const impossible = Buffer.from(JSON.stringify(['2025-02-30 10:00:00', 'm'])).toString('base64url');
    const answer = await read(
      cdp.url,
      `/v1/profiles/${encodeURIComponent(`email:${email}`)}/events?cursor=${impossible}`,
      cdp.readKey,
    );
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('INVALID_REQUEST');
  });

  it('keeps the valid events of a batch that also holds invalid ones', async () => {
    const userId = uniqueName('user');
    const response = await send(
      cdp.url,
      '/v1/batch',
      {
        batch: [
          { type: 'track', userId, event: 'Kept' },
          { type: 'track', userId },
          { type: 'teleport', userId },
        ],
      },
      { writeKey: cdp.writeKey },
    );
    expect(response.status).toBe(400);
    expect((response.body.errors as Array<{ index: number }>).map((issue) => issue.index)).toEqual([1, 2]);
    await waitForEvents(`user_id:${userId}`, 1);
  });

  it('serves health, readiness and Prometheus metrics', async () => {
    expect((await read(cdp.url, '/healthz')).status).toBe(200);
    const ready = await read(cdp.url, '/readyz');
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready', checks: { log: true, clickhouse: true } } });
    const metrics = await (await fetch(`${cdp.url}/metrics`)).text();
    expect(metrics).toMatch(/cdp_ingest_events_accepted_total\{type="track"\} \d+/);
    expect(metrics).toContain('cdp_http_request_duration_seconds_bucket');
  });
});
