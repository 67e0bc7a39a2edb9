// Destinations end to end: segment and event triggers fire signed webhooks at a real receiver, failures are retried
// with the same Idempotency-Key, one slow destination holds up no other, and bad definitions are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/runtime';
import { read, send } from '../harness/http';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import {
  json,
  startReceiver,
  verifiedAsAReceiverWould,
  type Json,
  type ReceivedRequest,
  type WebhookReceiver,
} from '../harness/webhook-receiver';

/** The problems of a 400, as `errors` lists them. */
const problems = (body: Json) => body.errors as Array<{ path: string; message: string }>;

describe.each(runtimes)('destinations on the %s runtime', (runtime) => {
  let cdp: TestPlatform;
  const receivers: WebhookReceiver[] = [];
  const secret = 'whsec_test_secret_0123456789';

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${cdp.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${cdp.adminKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, text, body: (text ? JSON.parse(text) : {}) as Json };
  };
  const receiver = async (answering?: Parameters<typeof startReceiver>[0]) => {
    const started = await startReceiver(answering);
    receivers.push(started);
    return started;
  };
  const destination = async (url: string, triggers: unknown[], extra: Record<string, unknown> = {}) => {
    const created = await call('POST', '/v1/destinations', {
      name: uniqueName('hook'),
      url,
      secret,
      triggers,
      ...extra,
    });
    expect(created.status, created.text).toBe(201);
    return created.body.id as string;
  };
  const track = (userId: string, event: string, properties: Record<string, unknown>) =>
    send(cdp.url, '/v1/track', { userId, event, properties }, { writeKey: cdp.writeKey });
  const deliveriesOf = async (id: string) =>
    (await call('GET', `/v1/destinations/${id}/deliveries`)).body.deliveries as Json[];

  beforeAll(async () => {
    cdp = await startTestPlatform(runtime, {
      // The receivers listen on loopback, which destinations refuse unless allowed.
      CDP_DESTINATIONS_ALLOW: '127.0.0.0/8,::1',
      CDP_DESTINATIONS_POLL_MS: '100',
      CDP_DESTINATIONS_BACKOFF_BASE_MS: '200',
      CDP_DESTINATIONS_BACKOFF_MAX_MS: '1000',
      CDP_DESTINATIONS_TIMEOUT_MS: '20000',
    });
  }, 180_000);
  afterAll(async () => {
    for (const started of receivers) await started.close();
    await cdp?.close();
  });

  it('fires a segment trigger with the profile, signed, and an exit does not fire an entered trigger', async () => {
    const created = await call('POST', '/v1/segments', {
      name: uniqueName('gold'),
      rule: { trait: 'plan', equals: 'gold' },
    });
    const segmentId = created.body.id as string;
    const entered = await receiver();
    const exited = await receiver();
    const onEnter = await destination(entered.url, [{ kind: 'segment', segmentId, on: 'entered' }], {
      traits: ['name', 'plan'],
    });
    await destination(exited.url, [{ kind: 'segment', segmentId, on: 'exited' }]);
    // The new segment's first evaluation has run (nobody in it yet): later changes are followed profile by profile.
    await waitFor(
      async () =>
        String((await call('GET', `/v1/segments/${segmentId}`)).body.evaluatedAt) >=
          new Date(Date.now() - 1000).toISOString() || null,
      {
        timeoutMs: 30_000,
        what: 'an evaluation after the segment was made',
      },
    );

    const userId = uniqueName('lan');
    expect(
      (
        await send(
          cdp.url,
          '/v1/identify',
          { userId, traits: { plan: 'gold', name: 'Nguyễn Thị Lan', city: 'Huế' } },
          { writeKey: cdp.writeKey },
        )
      ).status,
    ).toBe(200);
    const [request] = await waitFor(() => (entered.requests.length > 0 ? entered.requests : null), {
      timeoutMs: 45_000,
      what: 'the entered webhook',
    });
    const body = json(request as ReceivedRequest);
    expect(verifiedAsAReceiverWould(secret, request as ReceivedRequest)).toBe(true);
    expect(verifiedAsAReceiverWould('another-secret-00000000', request as ReceivedRequest)).toBe(false);
    expect(request?.headers['idempotency-key']).toBe(body.id);
    expect(request?.headers['content-type']).toContain('application/json');
    const profile = (await read(cdp.url, `/v1/profiles/user_id:${userId}`, cdp.readKey)).body;
    expect(body).toMatchObject({
      destinationId: onEnter,
      trigger: { kind: 'segment', segmentId, change: 'entered' },
      profile: {
        profileId: profile.profileId,
        identities: [{ type: 'user_id', value: userId }],
        traits: { plan: 'gold', name: 'Nguyễn Thị Lan' },
      },
    });
    // Only the chosen traits travel.
    const delivered = body.profile as { traits: Json; stats: Json };
    expect(delivered.traits.city).toBeUndefined();
    expect(delivered.stats).toMatchObject({ events: expect.any(Number) });

    expect(
      (await send(cdp.url, '/v1/identify', { userId, traits: { plan: 'silver' } }, { writeKey: cdp.writeKey })).status,
    ).toBe(200);
    const [exit] = await waitFor(() => (exited.requests.length > 0 ? exited.requests : null), {
      timeoutMs: 45_000,
      what: 'the exited webhook',
    });
    expect(json(exit as ReceivedRequest)).toMatchObject({
      trigger: { kind: 'segment', segmentId, change: 'exited' },
      profile: { profileId: profile.profileId },
    });
    expect(entered.requests).toHaveLength(1);
    expect(exited.requests).toHaveLength(1);
  });

  it('fires an event trigger only for events whose properties match its filter, through the template', async () => {
    const hook = await receiver();
    const template =
      '{"ticket": {{ trigger.properties.ticket_id | json }},\n "user": {{ profile.identities | where: "type", "user_id" | map: "value" | first | json }}}';
    const id = await destination(
      hook.url,
      [{ kind: 'event', event: 'Ticket Opened', where: [{ property: 'type', equals: 'complaint' }] }],
      { template },
    );
    const userId = uniqueName('khach');
    // One batch, one user: the question is read before the complaint, so once the complaint is delivered the question has had its chance.
    const batch = await send(
      cdp.url,
      '/v1/batch',
      {
        batch: [
          { type: 'track', userId, event: 'Ticket Opened', properties: { ticket_id: 'q-1', type: 'question' } },
          { type: 'track', userId, event: 'Ticket Replied', properties: { ticket_id: 'q-1', type: 'complaint' } },
          { type: 'track', userId, event: 'Ticket Opened', properties: { ticket_id: 'c-1', type: 'complaint' } },
        ],
      },
      { writeKey: cdp.writeKey },
    );
    expect(batch.status).toBe(200);
    await waitFor(async () => (await deliveriesOf(id)).some((delivery) => delivery.status === 'delivered') || null, {
      timeoutMs: 45_000,
      what: 'the complaint delivered',
    });
    expect(hook.requests.map(json)).toEqual([{ ticket: 'c-1', user: userId }]);
    expect(await deliveriesOf(id)).toHaveLength(1);
  });

  it('retries 500 and 429 (after Retry-After) with the same Idempotency-Key, while a slow destination holds up no other', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const failingOnce = await receiver((index) => ({ status: index === 0 ? 500 : 200 }));
    const limited = await receiver((index) =>
      index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 },
    );
    const slow = await receiver(() => ({ status: 200, hold: held }));
    const healthy = await receiver();
    const event = uniqueName('Webhook Probe');
    const trigger = [{ kind: 'event', event }];
    const ids = {
      failingOnce: await destination(failingOnce.url, trigger),
      limited: await destination(limited.url, trigger),
      slow: await destination(slow.url, trigger),
      healthy: await destination(healthy.url, trigger),
    };
    expect((await track(uniqueName('probe'), event, { n: 1 })).status).toBe(200);

    // The slow receiver still holds its request while the healthy one has been served.
    await waitFor(() => slow.holding() === 1 || null, {
      timeoutMs: 45_000,
      what: 'the slow receiver to hold its request',
    });
    await waitFor(() => healthy.requests.length === 1 || null, {
      timeoutMs: 45_000,
      what: 'the healthy destination served',
    });
    expect(slow.holding()).toBe(1);

    await waitFor(() => (failingOnce.requests.length >= 2 && limited.requests.length >= 2) || null, {
      timeoutMs: 45_000,
      what: 'both retried',
    });
    for (const requests of [failingOnce.requests, limited.requests]) {
      expect(requests).toHaveLength(2);
      expect(requests[1]?.headers['idempotency-key']).toBe(requests[0]?.headers['idempotency-key']);
      expect(requests[1]?.body).toBe(requests[0]?.body);
      expect(verifiedAsAReceiverWould(secret, requests[1] as ReceivedRequest)).toBe(true);
    }
    // Retry-After: 1 is honoured (to the second the receiver asked for, less the clock's rounding).
    expect((limited.requests[1]?.receivedAt ?? 0) - (limited.requests[0]?.receivedAt ?? 0)).toBeGreaterThanOrEqual(900);
    await waitFor(async () => ((await deliveriesOf(ids.failingOnce))[0]?.status === 'delivered' ? true : null), {
      timeoutMs: 10_000,
      what: 'the retried delivery recorded',
    });
    expect((await deliveriesOf(ids.failingOnce))[0]).toMatchObject({
      status: 'delivered',
      attempts: 2,
      lastStatus: 200,
    });
    expect((await deliveriesOf(ids.limited))[0]).toMatchObject({ status: 'delivered', attempts: 2 });

    release();
    await waitFor(async () => ((await deliveriesOf(ids.slow))[0]?.status === 'delivered' ? true : null), {
      timeoutMs: 30_000,
      what: 'the slow delivery',
    });
    expect(slow.requests).toHaveLength(1);
    const metrics = await (await fetch(`${cdp.url}/metrics`)).text();
    expect(metrics).toContain(`cdp_destination_deliveries_total{destination="${ids.failingOnce}",outcome="retried"} 1`);
    expect(metrics).toContain(
      `cdp_destination_deliveries_total{destination="${ids.failingOnce}",outcome="delivered"} 1`,
    );
    expect(metrics).toContain('cdp_destination_delivery_seconds_bucket');
  });

  it('keeps a refused delivery as a dead letter, and replays it', async () => {
    let gone = true;
    const hook = await receiver(() => ({ status: gone ? 410 : 200 }));
    const event = uniqueName('Replay Probe');
    const id = await destination(hook.url, [{ kind: 'event', event }]);
    expect((await track(uniqueName('replay'), event, {})).status).toBe(200);
    const [dead] = await waitFor(
      async () => {
        const deliveries = await deliveriesOf(id);
        return deliveries[0]?.status === 'dead' ? deliveries : null;
      },
      { timeoutMs: 45_000, what: 'a dead delivery' },
    );
    expect(dead).toMatchObject({ attempts: 1, lastStatus: 410, lastError: expect.stringContaining('410') });
    gone = false;
    expect((await call('POST', `/v1/destinations/${id}/replay`)).body).toEqual({ replayed: 1 });
    await waitFor(async () => ((await deliveriesOf(id))[0]?.status === 'delivered' ? true : null), {
      timeoutMs: 30_000,
      what: 'the replayed delivery',
    });
    expect(hook.requests).toHaveLength(2);
    expect(hook.requests[1]?.headers['idempotency-key']).toBe(dead?.id);
  });

  it("sends a test delivery now and answers with the receiver's status", async () => {
    const hook = await receiver(() => ({ status: 202 }));
    const id = await destination(hook.url, [{ kind: 'event', event: 'Never Sent' }]);
    const tested = await call('POST', `/v1/destinations/${id}/test`);
    expect(tested.body).toMatchObject({ ok: true, status: 202, error: null });
    expect(hook.requests).toHaveLength(1);
    expect(verifiedAsAReceiverWould(secret, hook.requests[0] as ReceivedRequest)).toBe(true);
    expect(json(hook.requests[0] as ReceivedRequest)).toMatchObject({
      test: true,
      destinationId: id,
      profile: { profileId: 'prf_sample' },
    });
  });

  it('never answers the secret or header values back, and sends the headers as given', async () => {
    const hook = await receiver();
    const token = 'Bearer receiver-token-5f3a9c';
    const id = await destination(hook.url, [{ kind: 'event', event: 'Secret Probe' }], {
      headers: { authorization: token },
    });
    const one = await call('GET', `/v1/destinations/${id}`);
    const all = await call('GET', '/v1/destinations');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id, url: hook.url, status: 'active', headers: { authorization: '********' } });
    for (const answer of [one, all]) {
      expect(answer.text).not.toContain(secret);
      expect(answer.text).not.toContain('secret');
      expect(answer.text).not.toContain('receiver-token');
    }
    expect((await call('POST', `/v1/destinations/${id}/test`)).status).toBe(200);
    expect(hook.requests.at(-1)?.headers.authorization).toBe(token);
    // A patch keeps what it does not name: the secret still signs, the header is still sent.
    const paused = await call('PATCH', `/v1/destinations/${id}`, { status: 'paused', template: '{"hi": 1}' });
    expect(paused.status, paused.text).toBe(200);
    expect(paused.body).toMatchObject({
      id,
      status: 'paused',
      template: '{"hi": 1}',
      headers: { authorization: '********' },
    });
    expect((await call('POST', `/v1/destinations/${id}/test`)).status).toBe(200);
    expect(hook.requests.at(-1)?.headers.authorization).toBe(token);
    expect(hook.requests.at(-1)?.body).toBe('{"hi": 1}');
    expect(verifiedAsAReceiverWould(secret, hook.requests.at(-1) as ReceivedRequest)).toBe(true);
    const cleared = await call('PATCH', `/v1/destinations/${id}`, { template: null, status: 'active' });
    expect(cleared.body).toMatchObject({ status: 'active', template: null });
    const badPatch = await call('PATCH', `/v1/destinations/${id}`, { url: 'http://10.0.0.5/hook', secret: 'short' });
    expect(badPatch.status).toBe(400);
    expect(problems(badPatch.body).map((problem) => problem.path)).toEqual(['secret']);
    const replaced = await call('PUT', `/v1/destinations/${id}`, {
      name: 'renamed',
      url: hook.url,
      secret: 'whsec_another_0123456789',
      status: 'paused',
      triggers: [{ kind: 'event', event: 'Secret Probe' }],
    });
    expect(replaced.body).toMatchObject({ id, name: 'renamed', status: 'paused' });
    expect(replaced.text).not.toContain('whsec_another');
    expect((await call('DELETE', `/v1/destinations/${id}`)).status).toBe(204);
    expect((await call('GET', `/v1/destinations/${id}`)).status).toBe(404);
  });

  it('previews a template over a real customer, and names a bad template, a malformed reference or nobody', async () => {
    const userId = uniqueName('lan');
    const identified = await send(
      cdp.url,
      '/v1/identify',
      { userId, traits: { name: 'Nguyễn Thị Lan', email: `${userId}@example.vn`, city: 'Huế' } },
      { writeKey: cdp.writeKey },
    );
    expect(identified.status).toBe(200);
    await waitFor(async () => ((await call('GET', `/v1/profiles/user_id:${userId}`)).status === 200 ? true : null), {
      timeoutMs: 30_000,
      what: 'the customer stored',
    });
    const template =
      '{"name": {{ profile.traits.name | json }}, "city": {{ profile.traits.city | default: "?" | json }}}';
    const preview = await call('POST', '/v1/destinations/preview', {
      profile: `user_id:${userId}`,
      template,
      traits: ['name'],
    });
    expect(preview.status, preview.text).toBe(200);
    // Only the traits chosen reach the template: `city` is not among them.
    expect(JSON.parse(preview.body.body as string)).toEqual({ name: 'Nguyễn Thị Lan', city: '?' });
    expect(preview.body.contentType).toBe('application/json');
    const payload = preview.body.payload as { trigger: Json; profile: { identities: Json[]; traits: Json } };
    expect(payload.trigger.kind).toBe('test');
    expect(payload.profile.traits).toEqual({ name: 'Nguyễn Thị Lan' });
    expect(payload.profile.identities).toEqual(
      expect.arrayContaining([
        { type: 'user_id', value: userId },
        { type: 'email', value: `${userId}@example.vn` },
      ]),
    );
    // Without a template the body is the payload itself.
    const plain = await call('POST', '/v1/destinations/preview', { profile: `email:${userId}@example.vn` });
    expect(JSON.parse(plain.body.body as string)).toEqual(plain.body.payload);

    const bad = await call('POST', '/v1/destinations/preview', {
      profile: `user_id:${userId}`,
      template: '{\n "a": {{ profile.traits.name | nosuchfilter }}\n}',
    });
    expect(bad.status).toBe(400);
    expect(problems(bad.body)).toEqual([{ path: 'template', message: expect.stringContaining('line 2') }]);
    const malformed = await call('POST', '/v1/destinations/preview', { profile: 'ada' });
    expect(malformed.status).toBe(400);
    expect(problems(malformed.body)[0]?.path).toBe('profile');
    const nobody = await call('POST', '/v1/destinations/preview', { profile: `user_id:${uniqueName('nobody')}` });
    expect(nobody.status).toBe(404);
    expect(nobody.body.code).toBe('NOT_FOUND');
  });

  it('refuses a bad template with its line, a bad URL, a private address and an unknown trigger kind', async () => {
    const base = {
      name: 'bad',
      url: 'https://93.184.215.14/hook',
      secret,
      triggers: [{ kind: 'event', event: 'Order Completed' }],
    };
    const template = await call('POST', '/v1/destinations', {
      ...base,
      template: '{\n "a": {{ profile.traits.name | nosuchfilter }}\n}',
    });
    expect(template.status).toBe(400);
    expect(template.body).toMatchObject({
      code: 'INVALID_REQUEST',
      errors: [{ path: 'template', message: expect.stringContaining('line 2') }],
    });

    const url = await call('POST', '/v1/destinations', { ...base, url: 'not a url' });
    expect(url.status).toBe(400);
    expect(problems(url.body)[0]?.path).toBe('url');

    const privateAddress = await call('POST', '/v1/destinations', { ...base, url: 'http://10.0.0.5/hook' });
    expect(privateAddress.status).toBe(400);
    expect(privateAddress.body.message).toContain('10.0.0.5 is a private address');
    const metadata = await call('POST', '/v1/destinations', { ...base, url: 'http://169.254.169.254/latest' });
    expect(metadata.body.message).toContain('link-local');

    const kind = await call('POST', '/v1/destinations', { ...base, triggers: [{ kind: 'birthday' }] });
    expect(kind.status).toBe(400);
    expect(problems(kind.body)[0]?.path).toMatch(/^triggers\.0/);

    const readKey = await fetch(`${cdp.url}/v1/destinations`, { headers: { authorization: `Bearer ${cdp.readKey}` } });
    expect(readKey.status).toBe(403);
  });
});
