// The profile read model's named queries against stored rows in chDB, each compared with plain loops over the same data.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findProfileIds,
  membersAsSurvivors,
  membersOf,
  movementsOf,
  readProfiles,
  segmentSizes,
  segmentsOf,
  segmentsOfMany,
  statsOf,
  storedIdsOf,
  storeMembershipChanges,
  survivorOfStored,
  traitsOf,
  writeIdentities,
  writeMerges,
} from '@cdp/profiles';
import { named, toClickHouseTime, type ClickHouse } from '@cdp/runtime';
import { generateStoredProfiles, insertStoredProfiles } from '../generators/stored-profiles';
import { referenceProfiles } from '../reference/segment-rules';
import { dropStore, freshStore } from '../harness/store';

const data = generateStoredProfiles({ profiles: 120, seed: 7, prefix: 'rm' });
const reference = referenceProfiles(data.messages, data.merges);
const storedIds = [...new Set(data.messages.map((message) => message.storedId))];
const survivorOfId = (stored: string) => data.merges.get(stored) ?? stored;

describe('the profile read model', () => {
  let clickhouse: ClickHouse;

  /** Membership rows for `segment`: each (profile, is_member) at `version`, as an evaluation stores its diff. */
  const store = (segment: string, rows: Array<[string, 0 | 1]>, version: number) =>
    storeMembershipChanges(
      clickhouse.client,
      `(SELECT {segment:String} AS segment_id, row.1 AS profile_id, row.2 AS is_member, {now:DateTime64(3, 'UTC')} AS entered_at
        FROM (SELECT arrayJoin(arrayZip({ids:Array(String)}, {flags:Array(UInt8)})) AS row))`,
      {
        segment,
        ids: rows.map(([id]) => id),
        flags: rows.map(([, flag]) => flag),
        version,
        now: toClickHouseTime(version),
      },
    );
  const column = async (query: string, params: Record<string, unknown>) =>
    (
      await (
        await clickhouse.client.query(
          named('test.readValues', { query, query_params: params, format: 'JSONCompactEachRow' }),
        )
      ).json<[string]>()
    )
      .map(([value]) => value)
      .sort();

  beforeAll(async () => {
    clickhouse = await freshStore('profile_read_model');
    await insertStoredProfiles(clickhouse.client, data);
  });
  afterAll(() => dropStore(clickhouse));

  it('maps every stored id to its survivor, and every survivor to its stored ids', async () => {
    expect(data.merges.size).toBeGreaterThan(10);
    for (const stored of storedIds)
      expect(await survivorOfStored(clickhouse.client, stored)).toBe(survivorOfId(stored));
    for (const profile of reference) {
      // Every id merged into it, whether or not a message is stored under that id.
      const absorbed = [...data.merges]
        .filter(([, survivor]) => survivor === profile.profileId)
        .map(([loser]) => loser);
      const ids = await storedIdsOf(clickhouse.client, profile.profileId);
      expect(ids[0]).toBe(profile.profileId);
      expect([...ids].sort()).toEqual([profile.profileId, ...absorbed].sort());
    }
  });

  it("rolls each survivor's stats and latest traits up from every stored id it absorbed", async () => {
    for (const profile of reference) {
      const ids = await storedIdsOf(clickhouse.client, profile.profileId);
      const stats = await statsOf(clickhouse.client, ids);
      expect({ events: stats.events, orders: stats.orders, openTickets: stats.openTickets }, profile.profileId).toEqual(
        {
          events: profile.stats.events,
          orders: profile.stats.orders,
          openTickets: profile.stats.openTickets,
        },
      );
      expect(stats.revenue).toBeCloseTo(profile.stats.revenue as number, 6);
      expect(stats.latestNps).toBe(profile.stats.latestNps);
      expect(await traitsOf(clickhouse.client, ids)).toEqual(profile.traits);
    }
  });

  it('reads many survivors at once, each as the stored rows of every id it absorbed give it', async () => {
    const merged = reference.filter((profile) => [...data.merges.values()].includes(profile.profileId));
    const [withLoser, plain] = [merged[0]!, reference.find((profile) => !merged.includes(profile))!];
    const loser = [...data.merges].find(([, survivor]) => survivor === withLoser.profileId)![0];
    // Identifiers: one stored under the survivor, one under the id it absorbed, one of a profile never merged.
    await writeIdentities(clickhouse.client, [
      { type: 'user_id', value: 'rm-many-a', profileId: withLoser.profileId, version: 1 },
      { type: 'email', value: 'rm-many-b@example.vn', profileId: loser, version: 1 },
      { type: 'user_id', value: 'rm-many-c', profileId: plain.profileId, version: 1 },
    ]);
    expect(
      await findProfileIds(clickhouse.client, [
        { type: 'email', value: 'RM-Many-B@example.vn' },
        { type: 'user_id', value: 'rm-many-c' },
        { type: 'profile_id', value: loser },
        { type: 'user_id', value: 'rm-many-b@example.vn' },
        { type: 'profile_id', value: 'rm_nobody' },
        { type: 'user_id', value: 'rm-many-a' },
      ]),
    ).toEqual([withLoser.profileId, plain.profileId, withLoser.profileId, null, null, withLoser.profileId]);

    const profiles = await readProfiles(
      clickhouse.client,
      [...reference.map((profile) => profile.profileId), 'rm_nobody'],
      [],
    );
    expect(profiles.size).toBe(reference.length + 1);
    for (const profile of reference) {
      const read = profiles.get(profile.profileId)!;
      expect({ events: read.stats.events, orders: read.stats.orders, traits: read.traits }, profile.profileId).toEqual({
        events: profile.stats.events,
        orders: profile.stats.orders,
        traits: profile.traits,
      });
      expect(read.stats.revenue).toBeCloseTo(profile.stats.revenue as number, 6);
    }
    expect(profiles.get(withLoser.profileId)!.identities).toEqual([
      { type: 'user_id', value: 'rm-many-a' },
      { type: 'email', value: 'rm-many-b@example.vn' },
    ]);
    expect(profiles.get(plain.profileId)!.identities).toEqual([{ type: 'user_id', value: 'rm-many-c' }]);
    expect(profiles.get('rm_nobody')).toMatchObject({ identities: [], traits: {}, segments: [], stats: { events: 0 } });
  });

  it('follows a merge chain: a profile absorbed with what it had absorbed hands every id on, and keeps none', async () => {
    // rm-chain-l merged into rm-chain-a; later rm-chain-a into rm-chain-b, and the chain collapsed (l points at b).
    const [l, a, b] = ['rm-chain-l', 'rm-chain-a', 'rm-chain-b'];
    await writeMerges(clickhouse.client, [{ loserId: l, survivorId: a, version: 1 }]);
    expect(await storedIdsOf(clickhouse.client, a)).toEqual([a, l]);
    await writeMerges(clickhouse.client, [
      { loserId: a, survivorId: b, version: 2 },
      { loserId: l, survivorId: b, version: 2 },
    ]);
    expect(await storedIdsOf(clickhouse.client, a)).toEqual([a]);
    expect((await storedIdsOf(clickhouse.client, b)).sort()).toEqual([a, b, l].sort());
    for (const stored of [l, a, b]) expect(await survivorOfStored(clickhouse.client, stored)).toBe(b);
    // Many at once, as a profile read asks: the same answer.
    await writeIdentities(clickhouse.client, [
      { type: 'email', value: 'rm-chain@example.vn', profileId: l, version: 1 },
    ]);
    const profiles = await readProfiles(clickhouse.client, [a, b], []);
    expect(profiles.get(b)!.identities).toEqual([{ type: 'email', value: 'rm-chain@example.vn' }]);
    expect(profiles.get(a)!.identities).toEqual([]);
  });

  it('reads membership as its latest row says, one rule for sizes, a profile, an evaluation and analytics', async () => {
    const [first, second, third] = reference.map((profile) => profile.profileId);
    const absorbed = [...data.merges.keys()][0]!;
    // Evaluation 1: three members, one of them an absorbed id (stored before its merge was known).
    await store(
      'vip',
      [
        [first!, 1],
        [second!, 1],
        [absorbed, 1],
      ],
      1000,
    );
    // Evaluation 2: the second leaves, the third enters.
    await store(
      'vip',
      [
        [second!, 0],
        [third!, 1],
      ],
      2000,
    );
    await store('other', [[first!, 1]], 2000);

    expect(await segmentSizes(clickhouse.client)).toEqual(
      new Map([
        ['vip', 3],
        ['other', 1],
      ]),
    );
    expect(await segmentsOf(clickhouse.client, first!, ['vip', 'other'])).toEqual(['other', 'vip']);
    expect(await segmentsOf(clickhouse.client, first!, ['vip'])).toEqual(['vip']);
    expect(await segmentsOf(clickhouse.client, second!, ['vip', 'other'])).toEqual([]);
    expect(await segmentsOfMany(clickhouse.client, [first!, second!, third!], ['vip', 'other'])).toEqual(
      new Map([
        [first!, ['other', 'vip']],
        [second!, []],
        [third!, ['vip']],
      ]),
    );
    expect(await movementsOf(clickhouse.client, 2000)).toEqual(
      new Map([
        ['vip', { entered: 1, exited: 1 }],
        ['other', { entered: 1, exited: 0 }],
      ]),
    );
    expect(await column(`SELECT profile_id FROM ${membersOf('{segment:String}')}`, { segment: 'vip' })).toEqual(
      [first!, third!, absorbed].sort(),
    );
    // Counted as survivors now, the absorbed member is its survivor.
    expect(await column(membersAsSurvivors('{segment:String}'), { segment: 'vip' })).toEqual(
      [first!, third!, survivorOfId(absorbed)].sort(),
    );
  });
});
