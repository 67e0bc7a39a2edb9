// Durable timers of destinations end to end, on a `cdp start` process that is killed with SIGKILL part way: follow-ups
// fire after their delay unless their awaited event came (from any identifier of the customer), an SLA is matched by
// its ticket, an anniversary fires within its days only, and a follow-up due while the process was down fires after
// its restart with the same Idempotency-Key.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/runtime';
import { read, send } from '../harness/http';
import { runtimeEnv, runtimes, uniqueName } from '../harness/platform';
import { cdpProcesses, type CdpProcess } from '../harness/process';
import {
  json,
  startReceiver,
  verifiedAsAReceiverWould,
  type Json,
  type WebhookReceiver,
} from '../harness/webhook-receiver';

const secret = 'whsec_timer_secret_0123456789';
const day = 86_400_000;

describe.each(runtimes)('destination timers on the %s runtime', (runtime) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cdp-timers-'));
  const env: Record<string, string> = {
    ...runtimeEnv(runtime, dataDir),
    // The receivers listen on loopback, which destinations refuse unless allowed.
    CDP_DESTINATIONS_ALLOW: '127.0.0.0/8,::1',
    CDP_DESTINATIONS_POLL_MS: '100',
    CDP_DESTINATIONS_TIMER_POLL_MS: '200',
    CDP_DESTINATIONS_ANNIVERSARY_SWEEP_MS: '300',
    CDP_DESTINATIONS_BACKOFF_BASE_MS: '200',
    CDP_DESTINATIONS_BACKOFF_MAX_MS: '1000',
  };
  const { start, cleanUp } = cdpProcesses(dataDir, env);
  let cdp: CdpProcess;
  const receivers: WebhookReceiver[] = [];

  const call = async (method: string, route: string, body?: unknown) => {
    const response = await fetch(`${cdp.url}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${env.CDP_ADMIN_KEY}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, text, body: (text ? JSON.parse(text) : {}) as Json };
  };
  const destination = async (triggers: unknown[]) => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const created = await call('POST', '/v1/destinations', {
      name: uniqueName('timer'),
      url: receiver.url,
      secret,
      triggers,
    });
    expect(created.status, created.text).toBe(201);
    return { id: created.body.id as string, receiver };
  };
  const batch = async (messages: Json[]) =>
    expect((await send(cdp.url, '/v1/batch', { batch: messages }, { writeKey: env.CDP_WRITE_KEY })).status).toBe(200);
  const profileOf = (ref: string) =>
    waitFor(
      async () => {
        const found = await read(cdp.url, `/v1/profiles/${encodeURIComponent(ref)}`, env.CDP_READ_KEY);
        return found.status === 200 ? found.body : null;
      },
      { timeoutMs: 45_000, what: `the profile of ${ref}` },
    );
  const deliveriesOf = async (id: string) =>
    (await call('GET', `/v1/destinations/${id}/deliveries`)).body.deliveries as Json[];
  const requestsOf = (receiver: WebhookReceiver, count: number, what: string) =>
    waitFor(() => (receiver.requests.length >= count ? receiver.requests : null), { timeoutMs: 60_000, what });

  beforeAll(async () => {
    cdp = await start();
  }, 120_000);
  afterAll(async () => {
    for (const receiver of receivers) await receiver.close();
    cleanUp();
  });

  it('fires a follow-up after its delay, not when the awaited event came from another identifier of the customer', async () => {
    const { id, receiver } = await destination([
      {
        kind: 'followUp',
        event: 'Order Completed',
        where: [{ property: 'channel', equals: 'web' }],
        after: { value: 3, unit: 'seconds' },
        unless: { event: 'Survey Responded' },
      },
    ]);
    const [answered, silent, anonymous] = [uniqueName('answered'), uniqueName('silent'), uniqueName('anon')];
    // The answering customer links an anonymous id, orders as a user, and answers the survey anonymously.
    await batch([
      { type: 'identify', userId: answered, anonymousId: anonymous, traits: { name: 'Trần Văn An' } },
      { type: 'track', userId: answered, event: 'Order Completed', properties: { order_id: 'a-1', channel: 'web' } },
      { type: 'track', anonymousId: anonymous, event: 'Survey Responded', properties: { survey: 'csat', score: 5 } },
    ]);
    await profileOf(`user_id:${answered}`);
    // Due after the answered one: once it has fired, the answered customer's timer has been decided.
    await batch([
      { type: 'identify', userId: silent, traits: { name: 'Lê Thị Hoa' } },
      { type: 'track', userId: silent, event: 'Order Completed', properties: { order_id: 's-1', channel: 'store' } },
      { type: 'track', userId: silent, event: 'Order Completed', properties: { order_id: 's-2', channel: 'web' } },
    ]);
    const [request] = await requestsOf(receiver, 1, 'the follow-up of the silent customer');
    expect(verifiedAsAReceiverWould(secret, request!)).toBe(true);
    const body = json(request!);
    const profile = await profileOf(`user_id:${silent}`);
    expect(request!.headers['idempotency-key']).toBe(body.id);
    expect(body).toMatchObject({
      destinationId: id,
      trigger: {
        kind: 'followUp',
        event: 'Order Completed',
        properties: { order_id: 's-2', channel: 'web' },
        after: { value: 3, unit: 'seconds' },
        unless: 'Survey Responded',
      },
      profile: { profileId: profile.profileId, traits: { name: 'Lê Thị Hoa' } },
    });
    expect((body.trigger as Json).identifiers).toBeUndefined();
    // The answered customer's timer was due first: had it fired, its delivery would be written by now.
    expect(await deliveriesOf(id)).toHaveLength(1);
    // Both decisions are counted (this process's totals, so at least these two).
    const metrics = await (await fetch(`${cdp.url}/metrics`)).text();
    const settled = (outcome: string) =>
      Number(
        new RegExp(`^cdp_destination_timers_total\\{kind="follow_up",outcome="${outcome}"\\} (\\d+)`, 'm').exec(
          metrics,
        )?.[1],
      );
    expect(settled('fired')).toBeGreaterThanOrEqual(1);
    expect(settled('cancelled')).toBeGreaterThanOrEqual(1);
  });

  it('fires an SLA breach for the ticket not replied in time, matched by ticket_id', async () => {
    const { id, receiver } = await destination([
      {
        kind: 'followUp',
        event: 'Ticket Opened',
        after: { value: 3, unit: 'seconds' },
        unless: { event: 'Ticket Replied' },
        matchOn: 'ticket_id',
      },
    ]);
    const customer = uniqueName('ticket');
    await batch([
      { type: 'track', userId: customer, event: 'Ticket Opened', properties: { ticket_id: 't-1', type: 'complaint' } },
      { type: 'track', userId: customer, event: 'Ticket Opened', properties: { ticket_id: 't-2', type: 'question' } },
      { type: 'track', userId: customer, event: 'Ticket Replied', properties: { ticket_id: 't-1' } },
    ]);
    const [request] = await requestsOf(receiver, 1, 'the SLA breach of t-2');
    expect(json(request!)).toMatchObject({ trigger: { kind: 'followUp', properties: { ticket_id: 't-2' } } });
    expect(verifiedAsAReceiverWould(secret, request!)).toBe(true);
    // Both were due together: decided in one pass of the poller, whose deliveries are written together.
    expect(await deliveriesOf(id)).toHaveLength(1);
  });

  it('fires an anniversary within its days before, once, and not for one further away', async () => {
    const birthday = (inDays: number) => `1990-${new Date(Date.now() + inDays * day).toISOString().slice(5, 10)}`;
    const [soon, later] = [uniqueName('soon'), uniqueName('later')];
    await batch([{ type: 'identify', userId: later, traits: { birthday: birthday(20) } }]);
    await profileOf(`user_id:${later}`);
    // Every sweep that reads the first profile also reads the second: it was there before.
    const { id, receiver } = await destination([{ kind: 'anniversary', trait: 'birthday', daysBefore: 7 }]);
    await batch([{ type: 'identify', userId: soon, traits: { birthday: birthday(3), name: 'Phạm Minh' } }]);
    const [request] = await requestsOf(receiver, 1, 'the coming birthday');
    const profile = await profileOf(`user_id:${soon}`);
    expect(verifiedAsAReceiverWould(secret, request!)).toBe(true);
    expect(json(request!)).toMatchObject({
      trigger: {
        kind: 'anniversary',
        trait: 'birthday',
        value: birthday(3),
        anniversary: new Date(Date.now() + 3 * day).toISOString().slice(0, 10),
        daysBefore: 7,
      },
      profile: { profileId: profile.profileId, traits: { name: 'Phạm Minh' } },
    });
    // Both profiles were read in the sweep that scheduled it, and due timers fire together.
    expect(await deliveriesOf(id)).toHaveLength(1);
  });

  it('wishes a customer once when the profile whose birthday fired is merged into an older one', async () => {
    const birthday = `1991-${new Date(Date.now() + 2 * day).toISOString().slice(5, 10)}`;
    const [older, newer, witness] = [uniqueName('older'), uniqueName('newer'), uniqueName('witness')];
    // A trait of this test alone: other tests' birthdays fall within these days too.
    // The older profile knows no date; it will survive the merge and take the newer one's over.
    await batch([{ type: 'track', anonymousId: older, event: 'Page Viewed' }]);
    const survivor = await profileOf(`anonymous_id:${older}`);
    const { id, receiver } = await destination([{ kind: 'anniversary', trait: 'member_since', daysBefore: 5 }]);
    await batch([{ type: 'identify', userId: newer, traits: { member_since: birthday } }]);
    await requestsOf(receiver, 1, 'the birthday of the newer profile');
    await batch([{ type: 'identify', userId: newer, anonymousId: older }]);
    await waitFor(
      async () => {
        const merged = await read(cdp.url, `/v1/profiles/user_id:${encodeURIComponent(newer)}`, env.CDP_READ_KEY);
        return merged.body.profileId === survivor.profileId &&
          (merged.body.traits as Record<string, unknown> | undefined)?.member_since === birthday
          ? true
          : null;
      },
      { timeoutMs: 45_000, what: 'the merge into the older profile' },
    );
    // A birthday stored after the merge: the sweep that schedules it reads the survivor too.
    await batch([{ type: 'identify', userId: witness, traits: { member_since: birthday } }]);
    await requestsOf(receiver, 2, "the witness's birthday");
    const deliveries = await deliveriesOf(id);
    expect(deliveries).toHaveLength(2);
    expect(deliveries.map((delivery) => delivery.profileId)).not.toContain(survivor.profileId);
  });

  it('refuses follow-ups and anniversaries that cannot work, naming the problem', async () => {
    const base = { name: 'bad', url: 'https://93.184.215.14/hook', secret };
    const refused = async (trigger: Json, problem: string, where: string) => {
      const answer = await call('POST', '/v1/destinations', { ...base, triggers: [trigger] });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({
        code: 'INVALID_REQUEST',
        errors: [{ path: where, message: expect.stringContaining(problem) }],
      });
    };
    const followUp = { kind: 'followUp', event: 'Ticket Opened', after: { value: 4, unit: 'hours' } };
    await refused({ ...followUp, matchOn: 'ticket_id' }, 'name an unless event', 'triggers.0.matchOn');
    await refused({ ...followUp, after: { value: 400, unit: 'days' } }, 'at most 366 days', 'triggers.0.after');
    await refused({ ...followUp, after: { value: 4, unit: 'weeks' } }, '', 'triggers.0.after.unit');
    await refused({ kind: 'anniversary', trait: 'birthday', daysBefore: 200 }, 'at most 90', 'triggers.0.daysBefore');
    // The OpenAPI document describes them, from the same schema.
    const document = await (await fetch(`${cdp.url}/openapi.json`)).text();
    for (const word of ['followUp', 'anniversary', 'matchOn', 'daysBefore']) expect(document).toContain(word);
  });

  /** A destination with a follow-up of an order, and the customer's order once its timer is stored. */
  const orderFollowedUp = async (after: Json, customer: string) => {
    const marker = uniqueName('Timer Scheduled');
    const created = await destination([
      { kind: 'followUp', event: 'Order Completed', after },
      // Delivered once the consumer has read the order before it: its timer is stored by then.
      { kind: 'event', event: marker },
    ]);
    await batch([
      { type: 'track', userId: customer, event: 'Order Completed', properties: { order_id: 'k-1' } },
      { type: 'track', userId: customer, event: marker, properties: {} },
    ]);
    await requestsOf(created.receiver, 1, 'the marker delivered');
    return created;
  };

  it("deletes an erased customer's pending timers", async () => {
    const customer = uniqueName('erased');
    await orderFollowedUp({ value: 1, unit: 'hours' }, customer);
    await profileOf(`user_id:${customer}`);
    const started = await call('DELETE', `/v1/profiles/user_id:${customer}`);
    expect(started.status, started.text).toBe(202);
    const done = await waitFor(
      async () => {
        const answer = await call('GET', `/v1/erasures/${String(started.body.id)}`);
        return answer.body.state === 'done' ? answer.body : null;
      },
      { timeoutMs: 60_000, what: 'the erasure to be done' },
    );
    expect((done.counts as Record<string, number>)['rows.destination_timers']).toBe(1);
  });

  it('fires a follow-up due while the process was killed once it is back, duplicates with one Idempotency-Key', async () => {
    const customer = uniqueName('outage');
    const { id, receiver } = await orderFollowedUp({ value: 6, unit: 'seconds' }, customer);
    cdp.child.kill('SIGKILL');
    expect(await cdp.exited).toBe('SIGKILL');
    // Down past the follow-up's due time.
    await new Promise((resolve) => setTimeout(resolve, 7000));
    cdp = await start();
    // The marker may come again too: killed before its delivery was recorded, it is sent again.
    const followUpsOf = () =>
      receiver.requests.filter((request) => (json(request).trigger as Json).kind === 'followUp');
    const followUps = await waitFor(() => (followUpsOf().length > 0 ? followUpsOf() : null), {
      timeoutMs: 60_000,
      what: 'the follow-up after the restart',
    });
    expect(new Set(followUps.map((request) => request.headers['idempotency-key'])).size).toBe(1);
    expect(json(followUps[0]!)).toMatchObject({
      destinationId: id,
      trigger: { properties: { order_id: 'k-1' } },
      profile: { identities: [{ type: 'user_id', value: customer }] },
    });
    expect(verifiedAsAReceiverWould(secret, followUps[0]!)).toBe(true);
  }, 120_000);
});
