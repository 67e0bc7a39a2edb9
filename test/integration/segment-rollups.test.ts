// A pass that rolls up again only the survivors changed since the previous pass (less those following rolled up since)
// holds the same profiles as the data.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { named, type ClickHouse } from '@cdp/runtime';
import type { SegmentRule } from '@cdp/schemas';
import {
  buildChangedPass,
  buildPass,
  builtinSegments,
  everyoneRolledUpAt,
  latestPass,
  passInputsOf,
  type Pass,
} from '@cdp/segments';
import { generateStoredProfiles, insertStoredProfiles } from '../generators/stored-profiles';
import { referenceMembers, referenceProfiles, type StoredMessage } from '../reference/segment-rules';
import { uniqueName } from '../harness/platform';
import { dropStore, freshStore, rulesMembers } from '../harness/store';

const data = generateStoredProfiles({ profiles: 120, seed: 23, prefix: uniqueName('rollups') });
const { now } = data;

// Written before the first pass: most messages and every other merge. The rest comes between the passes: the later
// messages of every third profile (orders, identifies, surveys of a known profile), whole new profiles, and merges of
// two profiles that the first pass rolled up as survivors of their own. Other profiles are left alone.
const profileNumber = (message: StoredMessage) => Number(/-p(\d+)/.exec(message.storedId)?.[1]);
const firstOfProfile = new Set(
  data.messages.filter(
    (message, index, all) => all.findIndex((other) => profileNumber(other) === profileNumber(message)) === index,
  ),
);
const isLater = (message: StoredMessage) =>
  profileNumber(message) % 10 === 5 || (profileNumber(message) % 3 === 0 && !firstOfProfile.has(message));
const earlier = {
  messages: data.messages.filter((message) => !isLater(message)),
  merges: new Map([...data.merges].filter((_, index) => index % 2 === 0)),
};
const later = {
  messages: data.messages.filter(isLater),
  merges: new Map([...data.merges].filter((_, index) => index % 2 === 1)),
};

// And a chain: a survivor that had absorbed a profile before the first pass is absorbed itself between the passes,
// by a profile no other write touches; as the resolver does, the profile it had absorbed is re-pointed too.
const [chainLoser, chainMiddle] = [...earlier.merges][0] as [string, string];
const chainEnd = data.messages.find(
  (message) =>
    profileNumber(message) % 4 === 0 && profileNumber(message) % 3 !== 0 && profileNumber(message) % 10 !== 5,
)!.storedId;
later.merges.set(chainMiddle, chainEnd).set(chainLoser, chainEnd);
/** Absorbed stored profile id → survivor, after every write. */
const merges = new Map([...data.merges, [chainMiddle, chainEnd], [chainLoser, chainEnd]]);

const rules: Record<string, SegmentRule> = {
  'plan is pro': { trait: 'plan', equals: 'pro' },
  'vip (a trait key the first pass did not keep)': { trait: 'vip', equals: true },
  'at least 2 orders': { stat: 'orders', gte: 2 },
  'revenue over 150': { stat: 'revenue', gt: 150 },
  'at most 6 events': { stat: 'events', lte: 6 },
  'open tickets': { stat: 'openTickets', gte: 1 },
  'latest NPS at least 7': { stat: 'latestNps', gte: 7 },
  'ordered in the store': { stat: 'channels', contains: 'store' },
  'first seen before': { stat: 'firstSeen', before: '2025-01-20T00:00:00Z' },
  'RFM monetary 5': { stat: 'rfmMonetary', equals: 5 },
  'ordered twice in 30 days': { event: 'Order Completed', atLeast: 2, withinDays: 30 },
  ...Object.fromEntries(builtinSegments.map((segment) => [segment.id, segment.rule])),
};

async function countIn(clickhouse: ClickHouse, query: string): Promise<number> {
  const result = await clickhouse.client.query(named('test.count', { query, format: 'JSONEachRow' }));
  return Number((await result.json<{ n: string }>())[0]?.n);
}

/** The survivors the later writes touched: their messages' and both sides of their merges. */
const survivorOf = (storedId: string) => merges.get(storedId) ?? storedId;
const touched = new Set([
  ...later.messages.map((message) => survivorOf(message.storedId)),
  ...[...later.merges.values()].map(survivorOf),
]);

describe('incremental roll-ups of evaluation passes', () => {
  let clickhouse: ClickHouse;
  let second: Pass;
  let third: Pass;
  /** When the roll-up of everyone that the latest pass goes back to was read, after each pass. */
  const everyoneAt: Array<number | null> = [];

  const members = (rule: SegmentRule, pass: Pass) => rulesMembers(clickhouse, rule, now, pass);
  const count = (query: string) => countIn(clickhouse, query);

  beforeAll(async () => {
    clickhouse = await freshStore('segments_rollups');
    const inputs = passInputsOf(Object.values(rules));
    // Stamped ten minutes ago, well before the first pass reads (less its commit margin): the second pass skips them.
    await insertStoredProfiles(clickhouse.client, earlier, Date.now() - 600_000);
    const withoutVip = { traitKeys: inputs.traitKeys.filter((key) => key !== 'vip'), behaviours: inputs.behaviours };
    everyoneAt.push(await everyoneRolledUpAt(clickhouse.client));
    await buildPass(clickhouse.client, { id: 1, ...withoutVip }, now);
    everyoneAt.push(await everyoneRolledUpAt(clickhouse.client));
    await insertStoredProfiles(clickhouse.client, later);
    second = { id: 2, ...withoutVip };
    await buildPass(clickhouse.client, second, now, { changedOnly: true });
    everyoneAt.push(await everyoneRolledUpAt(clickhouse.client));
    // Then a rule names a trait key no kept roll-up holds.
    third = { id: 3, ...inputs };
    await buildPass(clickhouse.client, third, now, { changedOnly: true });
    everyoneAt.push(await everyoneRolledUpAt(clickhouse.client));
  });
  afterAll(() => dropStore(clickhouse));

  it('rolls up again only the survivors the later writes touched, and everyone for a trait key no roll-up kept', async () => {
    expect(survivorOf(chainLoser)).toBe(chainEnd);
    const profiles = referenceProfiles(data.messages, merges);
    expect(touched.size).toBeGreaterThan(10);
    expect(touched.size).toBeLessThan(profiles.length);
    expect(await count('SELECT uniqExact(profile_id) AS n FROM survivor_stats WHERE pass = 2')).toBe(touched.size);
    expect(await count('SELECT uniqExact(profile_id) AS n FROM survivor_stats WHERE pass = 3')).toBe(profiles.length);
    const withVip = profiles.filter((profile) => profile.traits.vip !== undefined).length;
    expect(
      await count(
        "SELECT count() AS n FROM survivor_stats WHERE pass = 3 AND trait_values[indexOf(trait_keys, 'vip')] != ''",
      ),
    ).toBe(withVip);
  });

  describe.each([
    ['after the incremental roll-up', () => second],
    ['after the roll-up of everyone for a new trait key', () => third],
  ])('%s', (_when, pass) => {
    it.each(Object.entries(rules))('%s: the same members as the recomputation of all the data', async (_name, rule) => {
      expect(await members(rule, pass())).toEqual(
        referenceMembers(rule, referenceProfiles(data.messages, merges), now),
      );
    });

    it('holds one row per survivor, none for an absorbed profile', async () => {
      const survivors = referenceProfiles(data.messages, merges)
        .map((profile) => profile.profileId)
        .sort();
      const result = await clickhouse.client.query(
        named('test.readPassProfiles', {
          query:
            "SELECT profile_id FROM segment_profiles WHERE pass = {pass:UInt64} AND profile_id != '' ORDER BY profile_id",
          query_params: { pass: pass().id },
          format: 'JSONEachRow',
        }),
      );
      expect((await result.json<{ profile_id: string }>()).map((row) => row.profile_id)).toEqual(survivors);
    });
  });

  it('records when everyone was last rolled up, so a process starting after a recent pass rolls up only what changed', () => {
    const [before, first, incremental, forNewKey] = everyoneAt;
    expect(before).toBeNull();
    expect(first).toBeGreaterThan(Date.now() - 600_000);
    expect(incremental).toBe(first);
    expect(forNewKey).toBeGreaterThan(first!);
  });

  it('scores changed customers between full passes by the full pass quintiles, exactly as it ranked them', async () => {
    const scores = async (pass: number) =>
      (
        await (
          await clickhouse.client.query(
            named('test.rfmScores', {
              query: `SELECT profile_id, stat_rfm_recency AS r, stat_rfm_frequency AS f, stat_rfm_monetary AS m FROM segment_profiles
                WHERE pass = {pass:UInt64} AND profile_id != '' ORDER BY profile_id`,
              query_params: { pass },
              format: 'JSONEachRow',
            }),
          )
        ).json<{ profile_id: string; r: number | null; f: number | null; m: number | null }>()
      ).map((row) => [row.profile_id, row.r, row.f, row.m]);
    const full = await scores(third.id);
    // Many customers share an order count: ties are where placing by value alone went wrong.
    expect(new Set(full.map((row) => row[2])).size).toBeLessThan(full.filter((row) => row[2] !== null).length);
    const survivors = full.map(([id]) => id as string);
    const stored = [
      ...new Set([...survivors, ...[...merges.keys()].filter((loser) => survivors.includes(merges.get(loser)!))]),
    ];
    // Nothing changed since the full pass: every customer keeps the score it gave them.
    await buildChangedPass(clickhouse.client, { ...third, id: 4 }, { survivors, stored }, now, third);
    expect(await scores(4)).toEqual(full);
  });

  it('rolls up everyone after a pass that failed once it had kept other trait keys', async () => {
    // Pass 10 rolled up everyone for a rule set without vip, then failed before it became the latest.
    await clickhouse.client.command(
      named('test.keepFailedPassRows', {
        query:
          "INSERT INTO survivor_stats SELECT * REPLACE (['plan'] AS trait_keys, [trait_values[indexOf(trait_keys, 'plan')]] AS trait_values, 10 AS pass) FROM survivor_stats FINAL",
      }),
    );
    const eleventh = { id: 11, ...passInputsOf(Object.values(rules)) };
    await buildPass(clickhouse.client, eleventh, now, { changedOnly: true });
    expect(await count('SELECT uniqExact(profile_id) AS n FROM survivor_stats WHERE pass = 11')).toBe(
      referenceProfiles(data.messages, merges).length,
    );
    const vip = rules['vip (a trait key the first pass did not keep)']!;
    expect(await members(vip, eleventh)).toEqual(referenceMembers(vip, referenceProfiles(data.messages, merges), now));
  });

  // Last: it leaves a newer pass marker behind.
  it('reads no pass written before traits were folded into its rows, so previews read live data until the next pass', async () => {
    expect((await latestPass(clickhouse.client))?.id).toBe(11);
    await clickhouse.client.insert(
      named('test.recordPass', {
        table: 'segment_profile_passes',
        values: [{ pass: 12, trait_keys: ['plan'], behaviours: [] }],
        format: 'JSONEachRow',
      }),
    );
    expect(await latestPass(clickhouse.client)).toBeNull();
  });
});

describe('a pass after following', () => {
  let clickhouse: ClickHouse;
  let full: Pass;
  const followed = [...touched].sort().filter((_, index) => index % 2 === 0);
  const rewritten = later.messages.find((message) => followed.includes(survivorOf(message.storedId)))!;

  beforeAll(async () => {
    clickhouse = await freshStore('segments_followed');
    const inputs = passInputsOf(Object.values(rules));
    await insertStoredProfiles(clickhouse.client, earlier, Date.now() - 600_000);
    // Pass ids are instants, as the evaluator's versions are: a roll-up's pass says when it began.
    const first = { id: Date.now(), ...inputs };
    await buildPass(clickhouse.client, first, now);
    await insertStoredProfiles(clickhouse.client, later);
    // Following the change records of half the touched survivors rolls them up after their writes.
    const stored = [
      ...new Set([...followed, ...[...merges].filter(([, to]) => followed.includes(to)).map(([from]) => from)]),
    ];
    await buildChangedPass(
      clickhouse.client,
      { ...first, id: Date.now() + 1 },
      { survivors: followed, stored },
      now,
      first,
    );
    // One of them written again since (a copy of a message it had: the same stats), as if its next record were unread.
    await insertStoredProfiles(clickhouse.client, { messages: [rewritten], merges: new Map() });
    full = { id: Date.now() + 2, ...inputs };
    await buildPass(clickhouse.client, full, now, { changedOnly: true, followed: true });
  });
  afterAll(() => dropStore(clickhouse));

  it('rolls up again only the touched survivors following did not roll up since their last writes', async () => {
    expect(followed.length).toBeGreaterThan(5);
    const rolledUp = await clickhouse.client.query(
      named('test.readRolledUp', {
        query: 'SELECT profile_id FROM survivor_stats WHERE pass = {pass:UInt64} ORDER BY profile_id',
        query_params: { pass: full.id },
        format: 'JSONEachRow',
      }),
    );
    expect((await rolledUp.json<{ profile_id: string }>()).map((row) => row.profile_id)).toEqual(
      [...touched]
        .filter((survivor) => !followed.includes(survivor) || survivor === survivorOf(rewritten.storedId))
        .sort(),
    );
  });

  it.each(Object.entries(rules))('%s: the same members as the recomputation of all the data', async (_name, rule) => {
    expect(await rulesMembers(clickhouse, rule, now, full)).toEqual(
      referenceMembers(rule, referenceProfiles(data.messages, merges), now),
    );
  });
});
