// Every rule operator and combinator, compiled and run on ClickHouse, selects exactly the members a plain recomputation finds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouse } from '@cdp/runtime';
import { validateRule, type SegmentRule } from '@cdp/schemas';
import { buildPass, builtinSegments, compileRule, passInputsOf, type Pass } from '@cdp/segments';
import { generateStoredProfiles, hostileText, insertStoredProfiles } from '../generators/stored-profiles';
import { referenceMembers, referenceProfiles, type ReferenceProfile } from '../reference/segment-rules';
import { uniqueName } from '../harness/platform';
import { dropStore, freshStore, rulesMembers } from '../harness/store';

const data = generateStoredProfiles({ profiles: 160, seed: 11, prefix: uniqueName('rules') });
const { now } = data;

const operatorRules: Record<string, SegmentRule> = {
  'trait equals a string': { trait: 'plan', equals: 'pro' },
  'trait equals a number': { trait: 'age', equals: 30 },
  'trait equals a boolean': { trait: 'vip', equals: true },
  'trait in mixed values': { trait: 'plan', in: ['team', 42, false] },
  'trait contains': { trait: 'plan', contains: 're' },
  'trait exists': { trait: 'vip', exists: true },
  'trait does not exist (absent or null)': { trait: 'nickname', exists: false },
  'trait gt': { trait: 'age', gt: 40 },
  'trait gte': { trait: 'age', gte: 40 },
  'trait lt': { trait: 'age', lt: 25 },
  'trait lte': { trait: 'age', lte: 25 },
  'trait date before': { trait: 'signedUpAt', before: '2024-10-01' },
  'trait date after': { trait: 'signedUpAt', after: '2024-10-01T12:00:00Z' },
  'trait date within the last days': { trait: 'signedUpAt', withinLastDays: 120 },
  'orders gte': { stat: 'orders', gte: 2 },
  'orders equals 0': { stat: 'orders', equals: 0 },
  'revenue gt': { stat: 'revenue', gt: 250 },
  'events lt': { stat: 'events', lt: 6 },
  'open tickets': { stat: 'openTickets', gte: 1 },
  'latest NPS gte': { stat: 'latestNps', gte: 7 },
  'latest NPS missing': { stat: 'latestNps', exists: false },
  'latest CSAT lte': { stat: 'latestCsat', lte: 5 },
  'last order within the last days': { stat: 'lastOrderAt', withinLastDays: 20 },
  'never ordered': { stat: 'lastOrderAt', exists: false },
  'first seen before': { stat: 'firstSeen', before: '2025-01-20T00:00:00Z' },
  'last seen after': { stat: 'lastSeen', after: '2025-02-25' },
  'channels contain store': { stat: 'channels', contains: 'store' },
  'RFM recency 5': { stat: 'rfmRecency', equals: 5 },
  'RFM frequency at least 4': { stat: 'rfmFrequency', gte: 4 },
  'RFM monetary at most 2': { stat: 'rfmMonetary', lte: 2 },
  'no RFM score': { stat: 'rfmMonetary', exists: false },
  'ordered at least twice in 30 days': { event: 'Order Completed', atLeast: 2, withinDays: 30 },
  'ordered at most once in 30 days': { event: 'Order Completed', atMost: 1, withinDays: 30 },
  'ordered 1 to 2 times ever': { event: 'Order Completed', atLeast: 1, atMost: 2 },
  'ordered on the web': { event: 'Order Completed', where: [{ property: 'channel', equals: 'web' }] },
  'an order over 100': { event: 'Order Completed', where: [{ property: 'revenue', gt: 100 }], withinDays: 45 },
  'viewed a category in a list': {
    event: 'Product Viewed',
    where: [
      { property: 'category', in: ['bags', 'hats'] },
      { property: 'price', lte: 50 },
    ],
  },
  'ordered with a total property': { event: 'Order Completed', where: [{ property: 'total', exists: true }] },
  'viewed at least 0 times (everyone)': { event: 'Product Viewed', atLeast: 0 },
  'has not ordered in 14 days': { notPerformed: 'Order Completed', withinDays: 14 },
  'has not viewed shoes in 30 days': {
    notPerformed: 'Product Viewed',
    withinDays: 30,
    where: [{ property: 'category', equals: 'shoes' }],
  },
  and: {
    and: [
      { trait: 'plan', equals: 'pro' },
      { stat: 'orders', gte: 1 },
    ],
  },
  or: {
    or: [
      { trait: 'plan', equals: 'team' },
      { stat: 'channels', contains: 'store' },
    ],
  },
  not: { not: { stat: 'latestNps', gte: 9 } },
  'nested to depth 10': {
    or: [
      {
        not: {
          and: [
            {
              or: [
                {
                  not: {
                    and: [{ or: [{ not: { and: [{ stat: 'orders', gte: 1 }] } }, { trait: 'vip', equals: true }] }],
                  },
                },
              ],
            },
          ],
        },
      },
    ],
  },
};

// The same structure twice: once with plain strings, once with the hostile text in every string of the rule.
const plainRule = (value: string): SegmentRule => ({
  or: [
    { trait: 'nickname', equals: value },
    { trait: value, exists: true },
    { trait: 'plan', in: [value, 'x'] },
    { trait: 'nickname', contains: value },
    { event: value, atLeast: 1, where: [{ property: value, equals: value }] },
    { event: 'Product Viewed', where: [{ property: 'category', equals: value }] },
    { notPerformed: value, withinDays: 5 },
    { stat: 'channels', contains: value },
  ],
});

describe('segment rules on ClickHouse', () => {
  let clickhouse: ClickHouse;
  let profiles: ReferenceProfile[];

  let pass: Pass;

  const members = (rule: SegmentRule, from: Pass | null = null) => rulesMembers(clickhouse, rule, now, from);

  beforeAll(async () => {
    clickhouse = await freshStore('segments_rules');
    await insertStoredProfiles(clickhouse.client, data);
    profiles = referenceProfiles(data.messages, data.merges);
    // Every trait key and behaviour but one of each in the pass, so rules read them from both places.
    const inputs = passInputsOf([...Object.values(operatorRules), ...builtinSegments.map((segment) => segment.rule)]);
    const uncounted = passInputsOf([operatorRules['has not ordered in 14 days'] as SegmentRule]).behaviours[0];
    pass = {
      id: 1,
      traitKeys: inputs.traitKeys.filter((key) => key !== 'signedUpAt'),
      behaviours: inputs.behaviours.filter((key) => key !== uncounted),
    };
    await buildPass(clickhouse.client, pass, now);
  });
  afterAll(() => dropStore(clickhouse));

  it.each(Object.entries(operatorRules))('%s: the same members as the recomputation', async (_name, rule) => {
    expect(validateRule(rule).success).toBe(true);
    expect(await members(rule)).toEqual(referenceMembers(rule, profiles, now));
  });

  it.each(Object.entries(operatorRules))(
    "%s: the same members from an evaluation pass's profiles",
    async (_name, rule) => {
      expect(await members(rule, pass)).toEqual(referenceMembers(rule, profiles, now));
    },
  );

  it.each(builtinSegments.map((segment) => [segment.id, segment.rule] as const))(
    "built-in %s: the same members from an evaluation pass's profiles",
    async (_id, rule) => {
      expect(await members(rule, pass)).toEqual(referenceMembers(rule, profiles, now));
    },
  );

  it('the data makes most rules select some but not all profiles', () => {
    const sizes = Object.values(operatorRules).map((rule) => referenceMembers(rule, profiles, now).length);
    expect(sizes.filter((size) => size > 0 && size < profiles.length).length).toBeGreaterThan(sizes.length - 4);
    expect(profiles.length).toBe(160);
  });

  it.each(builtinSegments.map((segment) => [segment.id, segment.rule] as const))(
    'built-in %s: the same members as the recomputation',
    async (_id, rule) => {
      expect(validateRule(rule).success).toBe(true);
      expect(await members(rule)).toEqual(referenceMembers(rule, profiles, now));
    },
  );

  it('puts every profile in exactly one lifecycle stage and at most one RFM group', () => {
    const groupsOf = (prefix: string) => {
      const counts = new Map<string, number>();
      for (const segment of builtinSegments.filter((candidate) => candidate.id.startsWith(prefix))) {
        for (const id of referenceMembers(segment.rule, profiles, now)) counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return counts;
    };
    const lifecycle = groupsOf('lifecycle-');
    expect(lifecycle.size).toBe(profiles.length);
    expect([...lifecycle.values()].every((count) => count === 1)).toBe(true);
    const rfm = groupsOf('rfm-');
    expect([...rfm.values()].every((count) => count === 1)).toBe(true);
    expect(rfm.size).toBeGreaterThan(profiles.filter((profile) => (profile.stats.orders as number) > 0).length / 2);
    for (const segment of builtinSegments)
      expect(referenceMembers(segment.rule, profiles, now).length, segment.id).toBeGreaterThan(0);
  });

  it('hostile strings in every string of a rule change the parameters, never the SQL', async () => {
    const plain = compileRule(plainRule('plain'), { now });
    const hostile = compileRule(plainRule(hostileText), { now });
    expect(hostile.sql).toBe(plain.sql);
    expect(JSON.stringify(hostile.params)).toContain(JSON.stringify(hostileText).slice(1, -1));
    expect(validateRule(plainRule(hostileText)).success).toBe(true);
    for (const text of [hostileText, "' OR 1=1 --", '\\', '*/', '{p1:String}', '\u0000', '😀']) {
      const rule = plainRule(text);
      expect(await members(rule), JSON.stringify(text)).toEqual(referenceMembers(rule, profiles, now));
      expect(await members(rule, pass), JSON.stringify(text)).toEqual(referenceMembers(rule, profiles, now));
    }
    expect(compileRule(plainRule(hostileText), { now, pass }).sql).toBe(
      compileRule(plainRule('plain'), { now, pass }).sql,
    );
    // The profile holding the hostile text as a trait, and those who did the hostile event, are found by it.
    expect((await members({ trait: 'nickname', equals: hostileText })).length).toBe(1);
    expect((await members({ event: hostileText })).length).toBeGreaterThan(0);
  });
});
