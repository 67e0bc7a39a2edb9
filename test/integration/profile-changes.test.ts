// The resolver's profile changes on both runtimes: a record for every survivor a batch changed, a merge naming the
// profile it absorbed, and every record produced only once ClickHouse holds what it describes.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { named, waitFor, type LogConsumer } from '@cdp/runtime';
import { decodeProfileChange, topicNames, type ProfileChange } from '@cdp/schemas';
import { counterOf, send } from '../harness/http';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';

interface Received {
  key: string | null;
  change: ProfileChange;
  /** What the record says was written but ClickHouse did not hold when the record arrived. */
  missing: string[];
}

describe.each(runtimes)('profile changes on the %s runtime', (runtime) => {
  let cdp: TestPlatform;
  let reader: LogConsumer;
  const received: Received[] = [];
  const logLines: string[] = [];
  const logs = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });

  const rows = async <T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> =>
    (
      await cdp.platform.clickhouse.client.query(
        named('test.readRows', { query, query_params: params, format: 'JSONEachRow' }),
      )
    ).json<T>();

  /** Read as a consumer would on receipt: the record's events on its profile, and its merges, must be there already. */
  async function missingOnReceipt(change: ProfileChange): Promise<string[]> {
    const [stored] = await rows<{ events: string }>(
      'SELECT count() AS events FROM events WHERE profile_id = {profileId:String}',
      {
        profileId: change.profileId,
      },
    );
    const merges = await rows<{ loser_id: string }>(
      'SELECT DISTINCT loser_id FROM profile_merges WHERE survivor_id = {profileId:String} AND has({merged:Array(String)}, loser_id)',
      { profileId: change.profileId, merged: change.merged },
    );
    const missing: string[] = [];
    if (Number(stored?.events ?? 0) < change.events)
      missing.push(`${change.events} events of ${change.profileId}, ${stored?.events ?? 0} stored`);
    for (const loserId of change.merged)
      if (!merges.some((row) => row.loser_id === loserId))
        missing.push(`the merge of ${loserId} into ${change.profileId}`);
    return missing;
  }

  beforeAll(async () => {
    cdp = await startTestPlatform(runtime, {}, undefined, logs);
    const log = cdp.platform.log;
    if (!log) throw new Error('the platform runs without an event log');
    reader = await log.consume({
      groupId: uniqueName('profile-changes-reader'),
      topics: [topic()],
      async handleBatch(batch) {
        for (const record of batch.records) {
          const change = decodeProfileChange(record.value);
          received.push({ key: record.key, change, missing: await missingOnReceipt(change) });
        }
      },
    });
  }, 120_000);
  afterAll(async () => {
    await reader?.close();
    await cdp?.close();
  });

  const post = async (batch: object[]) => {
    const response = await send(cdp.url, '/v1/batch', { batch }, { writeKey: cdp.writeKey });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
  };
  const viewed = (ids: { userId?: string; anonymousId?: string }) => ({
    type: 'track',
    ...ids,
    event: 'Product Viewed',
    messageId: uniqueName('msg'),
  });
  /** The profile ClickHouse stored an event under, once it is stored. */
  const topic = () => topicNames(cdp.config.topicPrefix).profileChanges;
  const published = async () =>
    Object.values(await cdp.platform.log!.endOffsets(topic())).reduce((sum, offset) => sum + Number(offset), 0);
  const storedProfileOf = (messageId: string) =>
    waitFor(
      async () =>
        (
          await rows<{ profile_id: string }>('SELECT profile_id FROM events WHERE message_id = {messageId:String}', {
            messageId,
          })
        )[0]?.profile_id,
      {
        timeoutMs: 30_000,
        what: `event ${messageId} in ClickHouse`,
      },
    );

  it('names every survivor a batch changed, the profile a later identify merged, and only once ClickHouse has them', async () => {
    const sentFrom = Date.now();
    const customers = [uniqueName('lan'), uniqueName('minh'), uniqueName('hoa')];
    const device = uniqueName('device');
    const member = uniqueName('member');
    const apart = [
      ...customers.flatMap((userId) => [viewed({ userId }), viewed({ userId })]),
      viewed({ anonymousId: device }),
      viewed({ anonymousId: device }),
      viewed({ userId: member }),
    ];
    await post(apart);
    const profiles = await Promise.all(apart.map(({ messageId }) => storedProfileOf(messageId)));
    const [deviceProfile, memberProfile] = [profiles[6], profiles[8]];
    expect(new Set(profiles).size).toBe(customers.length + 2);

    // The member logs in on the device: the two profiles become one.
    const identify = { type: 'identify', userId: member, anonymousId: device, messageId: uniqueName('msg') };
    await post([identify]);
    const survivorId = await storedProfileOf(identify.messageId);
    expect([deviceProfile, memberProfile]).toContain(survivorId);
    const loserId = survivorId === deviceProfile ? memberProfile : deviceProfile;

    const sent = apart.length + 1;
    const eventsIn = () => received.reduce((sum, { change }) => sum + change.events, 0);
    await waitFor(() => eventsIn() >= sent || undefined, {
      timeoutMs: 30_000,
      what: `profile changes for ${sent} events`,
    });
    await waitFor(async () => received.length >= (await published()) || undefined, {
      timeoutMs: 30_000,
      what: 'every published profile change read',
    });

    expect(received.flatMap(({ missing }) => missing)).toEqual([]);
    expect(received.filter(({ key, change }) => key !== change.profileId)).toEqual([]);
    // Without a crash or a failed produce, each event is counted once, on the profile ClickHouse stored it under.
    const stored = await rows<{ profile_id: string; events: string }>(
      'SELECT profile_id, count() AS events FROM events GROUP BY profile_id',
    );
    const reported = new Map<string, number>();
    for (const { change } of received)
      reported.set(change.profileId, (reported.get(change.profileId) ?? 0) + change.events);
    expect(Object.fromEntries(reported)).toEqual(
      Object.fromEntries(stored.map((row) => [row.profile_id, Number(row.events)])),
    );
    expect(stored).toHaveLength(customers.length + 2);

    const merges = received.filter(({ change }) => change.merged.length > 0).map(({ change }) => change);
    expect(merges).toEqual([
      { profileId: survivorId, merged: [loserId], events: 1, at: expect.any(Number), version: expect.any(Number) },
    ]);
    // The identify applied a link, so the graph the merge was resolved at is newer than the one the loser's events were.
    const loserVersions = received
      .filter(({ change }) => change.profileId === loserId)
      .map(({ change }) => change.version);
    expect(loserVersions.length).toBeGreaterThan(0);
    expect(merges[0]!.version).toBeGreaterThan(Math.max(...loserVersions));
    expect(received.every(({ change }) => change.at >= sentFrom && change.at <= Date.now())).toBe(true);

    // Counted once a batch's changes are produced: a beat after a consumer may have read them.
    const counted = await waitFor(
      async () => {
        const count = await counterOf(cdp.url, 'cdp_resolver_profile_changes_total');
        return count >= received.length ? count : undefined;
      },
      { timeoutMs: 10_000, what: `${received.length} profile changes counted` },
    );
    expect(counted).toBe(received.length);
  });

  it('produces nothing for a batch ClickHouse refuses, and the change once it takes the batch', async () => {
    // A constraint the held event breaks makes the events insert fail, before the identity rows would go in.
    await cdp.platform.clickhouse.client.command(
      named('test.addConstraint', {
        query: `ALTER TABLE events ADD CONSTRAINT refuse_held_back CHECK event != 'Held Back'`,
      }),
    );
    const before = await published();
    const held = { type: 'track', userId: uniqueName('held'), event: 'Held Back', messageId: uniqueName('msg') };
    await post([held]);
    await waitFor(() => logLines.some((line) => line.includes('refuse_held_back')) || undefined, {
      timeoutMs: 30_000,
      what: 'the resolver to fail writing the held event',
    });
    expect(await published()).toBe(before);

    await cdp.platform.clickhouse.client.command(
      named('test.dropConstraint', { query: 'ALTER TABLE events DROP CONSTRAINT refuse_held_back' }),
    );
    const profileId = await storedProfileOf(held.messageId);
    const change = await waitFor(() => received.find((entry) => entry.change.profileId === profileId), {
      timeoutMs: 30_000,
      what: `the change of ${profileId}`,
    });
    expect(change).toMatchObject({ key: profileId, change: { merged: [], events: 1 }, missing: [] });
  });
});
