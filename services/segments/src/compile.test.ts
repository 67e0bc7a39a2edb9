// The rule compiler without ClickHouse: allow-listed columns, bound values only, the rule's logic kept, a pass read when given.
import type { SegmentRule } from '@cdp/schemas';
import { describe, expect, it } from 'vitest';
import { compileRule } from './compile';

const now = Date.UTC(2025, 5, 30, 12, 0, 0);
const marker = "zz'; DROP TABLE events; --";

/** Every string and number a rule holds, as a client sent it. */
function valuesOf(node: unknown): Array<string | number> {
  if (typeof node === 'string' || typeof node === 'number') return [node];
  if (Array.isArray(node)) return node.flatMap(valuesOf);
  if (node && typeof node === 'object') return Object.values(node).flatMap(valuesOf);
  return [];
}

const everyKind: SegmentRule = {
  and: [
    { stat: 'orders', gte: 2 },
    {
      or: [
        { trait: marker, equals: marker },
        { trait: 'city', in: [marker, 'Hà Nội'] },
      ],
    },
    { not: { event: marker, atLeast: 3, withinDays: 30, where: [{ property: marker, contains: marker }] } },
    { notPerformed: 'Order Completed', withinDays: 90 },
    { stat: 'lastSeen', withinLastDays: 14 },
    { stat: 'channels', contains: marker },
  ],
};

describe('the rule compiler', () => {
  it('puts no value of the rule into the SQL: strings reach ClickHouse only as parameters', () => {
    const { sql, params } = compileRule(everyKind, { now });
    expect(sql).not.toContain('DROP');
    expect(sql).not.toContain('Hà Nội');
    // Names of stats are not values: they pick a column from the allow-list. Everything else the rule says is bound.
    const statNames = new Set(['orders', 'lastSeen', 'channels']);
    const bound = JSON.stringify(params);
    for (const value of valuesOf(everyKind).filter((value) => typeof value === 'string' && !statNames.has(value))) {
      expect(bound).toContain(JSON.stringify(value).slice(1, -1));
    }
  });

  it('reads a stat from its allow-listed column, a missing one failing its test rather than passing NULL on', () => {
    const { sql, params } = compileRule({ stat: 'revenue', gt: 1_000_000 }, { now });
    expect(sql).toMatch(/WHERE ifNull\(\(stat_revenue > \{p0:Float64\}\), 0\)$/);
    expect(params.p0).toBe(1_000_000);
  });

  it("keeps the rule's and / or / not as it was written", () => {
    const rule: SegmentRule = {
      or: [{ stat: 'orders', gte: 1 }, { and: [{ stat: 'events', gte: 5 }, { not: { stat: 'openTickets', gt: 0 } }] }],
    };
    const { sql } = compileRule(rule, { now });
    const condition = sql.slice(sql.lastIndexOf('WHERE') + 6);
    expect(condition).toBe(
      '(ifNull((stat_orders >= {p0:Float64}), 0) OR (ifNull((stat_events >= {p1:Float64}), 0) AND (NOT ifNull((stat_open_tickets > {p2:Float64}), 0))))',
    );
  });

  it('measures relative windows back from the instant it is given', () => {
    const { params } = compileRule({ stat: 'lastSeen', withinLastDays: 30 }, { now });
    expect(params).toMatchObject({ now: '2025-06-30 12:00:00.000', p0: '2025-05-31 12:00:00.000' });
  });

  it('pays for RFM window functions only when the rule names an RFM score', () => {
    expect(compileRule({ stat: 'orders', gte: 1 }, { now }).sql).not.toContain('ntile');
    expect(compileRule({ not: { stat: 'rfmRecency', gte: 4 } }, { now }).sql).toContain('ntile(5)');
  });

  it("reads a pass's rows when given one: its stats, the trait values and behaviour counts it holds, by position", () => {
    const behaviour = { event: 'Order Completed', atLeast: 2, withinDays: 30 };
    const pass = {
      id: 1751284800000,
      traitKeys: ['city', 'plan'],
      behaviours: [JSON.stringify({ event: 'Order Completed', where: [], withinDays: 30 })],
    };
    const rule: SegmentRule = { and: [{ trait: 'plan', equals: 'pro' }, behaviour, { stat: 'orders', gte: 1 }] };
    const { sql, params } = compileRule(rule, { now, pass });
    expect(
      sql.startsWith("SELECT profile_id FROM segment_profiles WHERE pass = {pass:UInt64} AND profile_id != '' AND"),
    ).toBe(true);
    expect(params.pass).toBe(pass.id);
    expect(sql).not.toContain('profile_traits');
    expect(sql).toContain('trait_values[{p0:UInt64}]');
    expect(params.p0).toBe(2);
    expect(sql).toMatch(/behaviour_counts\[\{p\d+:UInt64\}\] >= \{p\d+:UInt64\}/);
  });

  it('reads a trait or behaviour the pass does not hold from the current data, as its complement when it asks for none', () => {
    const pass = { id: 1, traitKeys: [], behaviours: [] };
    expect(compileRule({ trait: 'plan', exists: false }, { now, pass }).sql).toContain(
      '(profile_id NOT IN (SELECT survivor FROM',
    );
    expect(compileRule({ trait: 'plan', exists: true }, { now, pass }).sql).toContain(
      '(profile_id IN (SELECT survivor FROM',
    );
    expect(compileRule({ event: 'Ticket Opened', atMost: 2, withinDays: 7 }, { now, pass }).sql).toContain(
      '(profile_id NOT IN',
    );
    expect(compileRule({ notPerformed: 'Ticket Opened', withinDays: 7 }, { now, pass }).sql).toContain(
      '(profile_id NOT IN',
    );
  });

  it('matches everyone for a behaviour that asks for at least zero', () => {
    expect(compileRule({ event: 'Page Viewed', atLeast: 0 }, { now }).sql).toMatch(/WHERE 1$/);
  });
});
