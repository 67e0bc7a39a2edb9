// Segments follow their profiles: a change the resolver reports moves the customer between segments without a full
// pass, and the full pass after it finds nothing left to change (no drift).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/runtime';
import type { SegmentChange } from '@cdp/schemas';
import { counterOf, read, send } from '../harness/http';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import { followSegmentChanges, type SegmentFeed } from '../harness/segment-feed';

describe.each(runtimes)('segments following profile changes on the %s runtime', (runtime) => {
  let cdp: TestPlatform;
  let feed: SegmentFeed;
  let oneTime: string;
  let repeat: string;
  /** Segments whose windows a day long the sweep keeps true: seen, ordered, a date trait; and one that enters when time passes. */
  const windows: Record<'seen' | 'ordered' | 'contacted' | 'lapsed', string> = {
    seen: '',
    ordered: '',
    contacted: '',
    lapsed: '',
  };

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${cdp.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${cdp.adminKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const order = (who: { userId?: string; anonymousId?: string }, revenue: number) =>
    send(
      cdp.url,
      '/v1/track',
      { ...who, event: 'Order Completed', properties: { revenue, channel: 'web' } },
      { writeKey: cdp.writeKey },
    );
  const profileOf = async (userId: string) =>
    (await read(cdp.url, `/v1/profiles/user_id:${userId}`, cdp.readKey)).body.profileId as string;
  const fullPasses = () => counterOf(cdp.url, 'cdp_segments_evaluations_total');
  /** The changes of our two segments for a profile, as [segment, change] in feed order. */
  const movesOf = (profileId: string) =>
    feed.changes
      .filter(
        (change) => change.profileId === profileId && (change.segmentId === oneTime || change.segmentId === repeat),
      )
      .map((change) => [change.segmentId === oneTime ? 'one-time' : 'repeat', change.change]);
  const untilFullPass = async (after: number) =>
    waitFor(async () => (await fullPasses()) > after, { timeoutMs: 60_000, what: 'a full pass of every segment' });
  /** Until a full pass that began at or after `since` has finished and no other is under way (none is due for an hour). */
  const untilPassesSettle = async (since: number) => {
    await waitFor(
      async () => Date.parse(((await call('GET', '/v1/segments')).body.evaluatedAt as string | null) ?? '0') >= since,
      {
        timeoutMs: 60_000,
        what: 'a full pass reading the new definitions',
      },
    );
    let last = -1;
    await waitFor(
      async () => {
        const now = await fullPasses();
        const settled = now === last && now > 0;
        last = now;
        return settled;
      },
      { timeoutMs: 60_000, intervalMs: 1500, what: 'full passes to finish' },
    );
  };

  beforeAll(async () => {
    // Full passes an hour apart: between them, only the followed changes and the sweeps of time windows move anyone.
    cdp = await startTestPlatform(runtime, { CDP_SEGMENTS_INTERVAL_MS: '3600000', CDP_SEGMENTS_SWEEP_MS: '1000' });
    feed = await followSegmentChanges(cdp);
    const created = Date.now();
    oneTime = (await call('POST', '/v1/segments', { name: 'One-time buyers', rule: { stat: 'orders', equals: 1 } }))
      .body.id as string;
    repeat = (
      await call('POST', '/v1/segments', {
        name: 'Repeat buyers',
        rule: {
          and: [
            { stat: 'orders', gte: 2 },
            { event: 'Order Completed', withinDays: 30 },
          ],
        },
      })
    ).body.id as string;
    const define = async (name: string, rule: unknown) =>
      (await call('POST', '/v1/segments', { name, rule })).body.id as string;
    windows.seen = await define('Seen in the last day', { stat: 'lastSeen', withinLastDays: 1 });
    windows.ordered = await define('Ordered in the last day', { event: 'Order Completed', withinDays: 1 });
    windows.contacted = await define('Contacted in the last day', { trait: 'lastContactAt', withinLastDays: 1 });
    windows.lapsed = await define('Bought, but not in the last day', {
      and: [
        { stat: 'orders', gte: 1 },
        { notPerformed: 'Order Completed', withinDays: 1 },
      ],
    });
    // The new definitions get a full pass of their own; the follower compares with what it stored.
    await untilPassesSettle(created);
  }, 180_000);
  afterAll(async () => {
    await feed?.close();
    await cdp?.close();
  });

  it('moves a buyer between segments as their orders arrive, without a full pass', async () => {
    const passes = await fullPasses();
    const userId = uniqueName('buyer');
    expect((await order({ userId }, 20)).status).toBe(200);
    await waitFor(async () => movesOf(await profileOf(userId)).length >= 1, {
      timeoutMs: 30_000,
      what: 'the first order to put the buyer in one-time buyers',
    });
    const profileId = await profileOf(userId);
    expect(movesOf(profileId)).toEqual([['one-time', 'entered']]);

    expect((await order({ userId }, 35)).status).toBe(200);
    await waitFor(() => movesOf(profileId).length >= 3, {
      timeoutMs: 30_000,
      what: 'the second order to move the buyer to repeat buyers',
    });
    expect(movesOf(profileId).slice(1).sort()).toEqual(
      [
        ['one-time', 'exited'],
        ['repeat', 'entered'],
      ].sort(),
    );
    // A change is published before its membership row is stored (a crash in between publishes it again): the profile
    // lists the segment a moment after the change is on the topic.
    const listed = async () =>
      (await read(cdp.url, `/v1/profiles/user_id:${userId}`, cdp.readKey)).body.segments as string[];
    await waitFor(async () => (await listed()).includes(repeat), {
      timeoutMs: 10_000,
      what: "the buyer's profile to list repeat buyers",
    });
    // Lifecycle built-ins follow too: a first order makes a new customer.
    expect(
      feed.changes.some(
        (change) =>
          change.profileId === profileId && change.segmentId === 'lifecycle-new' && change.change === 'entered',
      ),
    ).toBe(true);
    expect(await fullPasses()).toBe(passes);
    expect(await counterOf(cdp.url, 'cdp_segments_followed_profiles_total')).toBeGreaterThanOrEqual(2);
  });

  it('a merge moves the survivor and takes the absorbed profile out of every segment', async () => {
    const userId = uniqueName('member');
    const device = uniqueName('device');
    expect((await order({ userId }, 50)).status).toBe(200);
    expect((await order({ anonymousId: device }, 15)).status).toBe(200);
    const member = await waitFor(
      async () => (movesOf(await profileOf(userId)).length >= 1 ? profileOf(userId) : null),
      {
        timeoutMs: 30_000,
        what: "the member's order",
      },
    );
    const anonymous = await waitFor(
      async () => {
        const found = (await read(cdp.url, `/v1/profiles/anonymous_id:${device}`, cdp.readKey)).body.profileId as
          string | undefined;
        return found && movesOf(found).length >= 1 ? found : null;
      },
      { timeoutMs: 30_000, what: "the device's order" },
    );
    expect(movesOf(anonymous)).toEqual([['one-time', 'entered']]);

    // The member signs in on the device: the older profile (the member's) absorbs the device's.
    expect(
      (await send(cdp.url, '/v1/identify', { userId, anonymousId: device }, { writeKey: cdp.writeKey })).status,
    ).toBe(200);
    await waitFor(() => movesOf(anonymous).length >= 2 && movesOf(member).length >= 3, {
      timeoutMs: 30_000,
      what: 'the merge to move both profiles',
    });
    expect(movesOf(anonymous)).toEqual([
      ['one-time', 'entered'],
      ['one-time', 'exited'],
    ]);
    expect(movesOf(member).slice(1).sort()).toEqual(
      [
        ['one-time', 'exited'],
        ['repeat', 'entered'],
      ].sort(),
    );
  });

  it('moves a customer whose time windows pass, without a full pass or any new event', async () => {
    const passes = await fullPasses();
    const userId = uniqueName('lapsing');
    // An order and a contact that leave their one-day windows some seconds from now.
    const leavesAt = Date.now() + 25_000;
    const dayAgo = new Date(leavesAt - 86_400_000).toISOString();
    expect(
      (
        await send(
          cdp.url,
          '/v1/identify',
          { userId, traits: { lastContactAt: dayAgo }, timestamp: dayAgo },
          { writeKey: cdp.writeKey },
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await send(
          cdp.url,
          '/v1/track',
          { userId, event: 'Order Completed', properties: { revenue: 12 }, timestamp: dayAgo },
          { writeKey: cdp.writeKey },
        )
      ).status,
    ).toBe(200);
    const movesOf = (profileId: string) =>
      Object.entries(windows).flatMap(([name, segmentId]) =>
        feed.changes
          .filter((change) => change.profileId === profileId && change.segmentId === segmentId)
          .map((change) => `${name} ${change.change}`),
      );
    const profileId = await waitFor(
      async () => (movesOf(await profileOf(userId)).length >= 3 ? profileOf(userId) : null),
      {
        timeoutMs: 20_000,
        what: 'the order and the contact to be followed',
      },
    );
    const moves = () => movesOf(profileId);
    expect(moves().sort()).toEqual(['contacted entered', 'ordered entered', 'seen entered']);

    await waitFor(() => moves().length >= 7, {
      timeoutMs: 60_000,
      what: 'the sweep to move the customer as the day passes',
    });
    expect(moves().sort()).toEqual([
      'contacted entered',
      'contacted exited',
      'lapsed entered',
      'ordered entered',
      'ordered exited',
      'seen entered',
      'seen exited',
    ]);
    const exits = feed.changes.filter((change) => change.profileId === profileId && change.change === 'exited');
    expect(Math.min(...exits.map((change) => change.at))).toBeGreaterThanOrEqual(leavesAt);
    expect(await fullPasses()).toBe(passes);
    // The sweep counts its profiles once it has published every change of them.
    await waitFor(async () => (await counterOf(cdp.url, 'cdp_segments_swept_profiles_total')) >= 1, {
      timeoutMs: 10_000,
      what: 'the sweep to count the customer',
    });
  });

  it('leaves a full pass nothing to change: zero drift', async () => {
    await waitFor(() => feed.caughtUp(), { timeoutMs: 30_000, what: 'the feed to catch up' });
    const seen = feed.changes.length;
    const passes = await fullPasses();
    // A definition change asks for a full pass of every segment.
    expect(
      (await call('POST', '/v1/segments', { name: 'Nobody', rule: { stat: 'orders', gte: 1_000_000 } })).status,
    ).toBe(201);
    await untilFullPass(passes);
    await waitFor(() => feed.caughtUp(), { timeoutMs: 30_000, what: 'the feed to catch up' });
    // RFM scores are quintiles among every customer: a new order moves others' ranks, which only a full pass settles.
    const drift = feed.changes.slice(seen).filter((change: SegmentChange) => !change.segmentId.startsWith('rfm-'));
    expect(drift).toEqual([]);
    expect(await counterOf(cdp.url, 'cdp_segments_drift_total')).toBe(0);
    expect(await counterOf(cdp.url, 'cdp_segments_ahead_of_following_total')).toBe(0);
  });
});
