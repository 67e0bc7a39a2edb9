// A customer's way through the built-in RFM groups: one purchase makes a new customer, a second a potential loyalist.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/runtime';
import { builtinSegments } from '@cdp/segments';
import { insertStoredProfiles } from '../generators/stored-profiles';
import { read, send } from '../harness/http';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import { followSegmentChanges, type SegmentFeed } from '../harness/segment-feed';
import { referenceMembers, referenceProfiles, type StoredMessage } from '../reference/segment-rules';

const dayMs = 86_400_000;
const newCustomers = 'rfm-new-customers';
const potentialLoyalists = 'rfm-potential-loyalists';

/**
 * 49 earlier customers whose orders are all older than the new customer's: 9 with one order and 5 with two, all with
 * stored ids that sort before any profile id the resolver makes (`prf_…`), and 35 with three. With the new customer
 * that is 50 customers, 10 a frequency quintile: one order puts them 10th by orders (F = 1), a second 15th (F = 2),
 * and their orders are the most recent (R = 5). The reference below checks these claims a second way.
 */
function earlierCustomers(now: number): StoredMessage[] {
  const messages: StoredMessage[] = [];
  const groups: Array<{ prefix: string; count: number; orders: number }> = [
    { prefix: 'bg-one', count: 9, orders: 1 },
    { prefix: 'bg-two', count: 5, orders: 2 },
    { prefix: 'zz-three', count: 35, orders: 3 },
  ];
  for (const group of groups) {
    for (let index = 0; index < group.count; index += 1) {
      for (let order = 0; order < group.orders; order += 1) {
        const timestamp = now - (100 + index * 3 + order * 20) * dayMs;
        messages.push({
          messageId: `${group.prefix}-${index}-o${order}`,
          storedId: `${group.prefix}-${String(index).padStart(2, '0')}`,
          type: 'track',
          event: 'Order Completed',
          timestamp,
          receivedAt: timestamp + 1000,
          channel: 'web',
          properties: { revenue: 20 + index, channel: 'web' },
          traits: {},
        });
      }
    }
  }
  return messages;
}

describe.each(runtimes)('built-in RFM groups on the %s runtime', (runtime) => {
  let cdp: TestPlatform;
  let feed: SegmentFeed;
  const userId = uniqueName('shopper');
  const background = earlierCustomers(Date.now());

  const order = (revenue: number) =>
    send(
      cdp.url,
      '/v1/track',
      { userId, event: 'Order Completed', properties: { revenue, channel: 'web' } },
      { writeKey: cdp.writeKey },
    );
  const segmentsOf = async () =>
    ((await read(cdp.url, `/v1/profiles/user_id:${userId}`, cdp.readKey)).body.segments ?? []) as string[];
  const evaluations = async () =>
    Number(
      /^cdp_segments_evaluations_total\{outcome="ok"\} (\d+)/m.exec(
        await cdp.platform.metrics.registry.metrics(),
      )?.[1] ?? 0,
    );

  /** The reference's RFM groups of the shopper (stored as `profileId`) after `orders` orders made now. */
  function expectedGroups(profileId: string, orders: number): string[] {
    const now = Date.now();
    const profiles = referenceWith(profileId, orders, now);
    return builtinSegments
      .filter(
        (segment) => segment.id.startsWith('rfm-') && referenceMembers(segment.rule, profiles, now).includes(profileId),
      )
      .map((segment) => segment.id);
  }

  /** The reference's RFM grid once the shopper made `orders` orders: customers per recency and frequency score. */
  function expectedGrid(
    profileId: string,
    orders: number,
  ): Array<{ recency: number; frequency: number; customers: number }> {
    const cells = new Map<string, number>();
    for (const profile of referenceWith(profileId, orders, Date.now())) {
      if (profile.stats.rfmRecency === null) continue;
      const key = `${String(profile.stats.rfmRecency)}/${String(profile.stats.rfmFrequency)}`;
      cells.set(key, (cells.get(key) ?? 0) + 1);
    }
    return [...cells.entries()]
      .map(([key, customers]) => ({
        recency: Number(key.split('/')[0]),
        frequency: Number(key.split('/')[1]),
        customers,
      }))
      .sort((a, b) => a.recency - b.recency || a.frequency - b.frequency);
  }

  /** Every profile as the reference sees it, with the shopper (stored as `profileId`) after `orders` orders made now. */
  function referenceWith(profileId: string, orders: number, now: number) {
    const own: StoredMessage[] = Array.from({ length: orders }, (_, index) => ({
      messageId: `own-${index}`,
      storedId: profileId,
      type: 'track',
      event: 'Order Completed',
      timestamp: now - index * 1000,
      receivedAt: now,
      channel: 'web',
      properties: { revenue: 30 },
      traits: {},
    }));
    return referenceProfiles([...background, ...own], new Map());
  }

  beforeAll(async () => {
    cdp = await startTestPlatform(runtime, { CDP_SEGMENTS_INTERVAL_MS: '400' });
    await insertStoredProfiles(cdp.platform.clickhouse.client, { messages: background, merges: new Map() });
    feed = await followSegmentChanges(cdp);
  }, 180_000);
  afterAll(async () => {
    await feed?.close();
    await cdp?.close();
  });

  it('a customer who buys twice leaves new customers for potential loyalists: one exit and one entry on the feed', async () => {
    expect((await order(40)).status).toBe(200);
    await waitFor(async () => (await segmentsOf()).includes(newCustomers), {
      timeoutMs: 30_000,
      what: 'the first purchase to make a new customer',
    });
    const profileId = (await read(cdp.url, `/v1/profiles/user_id:${userId}`, cdp.readKey)).body.profileId as string;
    expect(expectedGroups(profileId, 1)).toEqual([newCustomers]);
    expect((await segmentsOf()).filter((id) => id.startsWith('rfm-'))).toEqual([newCustomers]);
    const entry = () =>
      feed.changes.find((change) => change.profileId === profileId && change.segmentId === newCustomers);
    await waitFor(() => entry() !== undefined, { timeoutMs: 10_000, what: 'the entry on the feed' });
    // Changes carry their pass: the second purchase's are those of later passes.
    const firstPass = entry()!.version;

    expect((await order(25)).status).toBe(200);
    await waitFor(async () => (await segmentsOf()).includes(potentialLoyalists), {
      timeoutMs: 30_000,
      what: 'the second purchase to make a potential loyalist',
    });
    expect(expectedGroups(profileId, 2)).toEqual([potentialLoyalists]);
    expect((await segmentsOf()).filter((id) => id.startsWith('rfm-'))).toEqual([potentialLoyalists]);
    const afterSecond = () =>
      feed.changes.filter((change) => change.profileId === profileId && change.version > firstPass);
    await waitFor(() => afterSecond().length >= 2, { timeoutMs: 10_000, what: 'the exit and the entry on the feed' });
    // Later evaluations find nothing new for this customer: give them a few rounds, and the feed time, to prove it.
    const seen = await evaluations();
    await waitFor(async () => (await evaluations()) >= seen + 3, { timeoutMs: 30_000, what: 'three more evaluations' });
    await waitFor(() => feed.caughtUp(), { timeoutMs: 10_000, what: 'the feed to deliver every published change' });

    expect(
      afterSecond()
        .map((change) => `${change.change} ${change.segmentId}`)
        .sort(),
    ).toEqual([`entered ${potentialLoyalists}`, `exited ${newCustomers}`]);

    // The grid the console shows is the scores these groups were built from.
    const grid = (await read(cdp.url, '/v1/analytics/rfm', cdp.readKey)).body;
    expect(grid).toEqual({ evaluatedAt: expect.any(String), customers: 50, cells: expectedGrid(profileId, 2) });
  });
});
