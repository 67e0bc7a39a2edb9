// Compiles a validated segment rule to one ClickHouse query of its members' survivor profile ids, values bound only.
import { latestTraitsOfSurvivors, statsOfSurvivors, withRfm } from '@cdp/profiles';
import { statKind, type SegmentRule, type StatName, type TraitCondition } from '@cdp/schemas';
import { behaviourKey, behaviourMembers, type Behaviour } from './behaviours';
import type { Pass } from './passes';
import { comparisons, createBinder } from './sql-values';

export interface CompiledRule {
  /** `SELECT profile_id FROM … WHERE …`: one row per member, a survivor profile id; no ORDER BY. */
  sql: string;
  params: Record<string, unknown>;
}

/** The allow-list of stat columns: a rule names a stat, never a column. */
const statColumns: Record<StatName, string> = {
  orders: 'stat_orders',
  revenue: 'stat_revenue',
  events: 'stat_events',
  openTickets: 'stat_open_tickets',
  latestNps: 'stat_latest_nps',
  latestCsat: 'stat_latest_csat',
  lastOrderAt: 'stat_last_order_at',
  firstSeen: 'stat_first_seen',
  lastSeen: 'stat_last_seen',
  channels: 'stat_channels',
  rfmRecency: 'stat_rfm_recency',
  rfmFrequency: 'stat_rfm_frequency',
  rfmMonetary: 'stat_rfm_monetary',
};

/** The column of a stat, from the allow-list. */
export const statColumnOf = (stat: StatName): string => statColumns[stat];

/** Whether the rule names an RFM score (quintiles among every customer). Only such a live rule pays for the windows. */
export const usesRfm = (rule: SegmentRule): boolean =>
  'and' in rule
    ? rule.and.some(usesRfm)
    : 'or' in rule
      ? rule.or.some(usesRfm)
      : 'not' in rule
        ? usesRfm(rule.not)
        : 'stat' in rule && rule.stat.startsWith('rfm');

/**
 * Compiles `rule` as seen at instant `now` (epoch ms): every relative window is measured back from it. With a
 * pass (of segment_profiles), its stats and the trait keys and behaviours it holds are read from it;
 * everything else is rolled up or counted from the current data.
 */
export function compileRule(
  rule: SegmentRule,
  options: { now: number; pass?: Pass | null; paramPrefix?: string },
): CompiledRule {
  const pass = options.pass ?? null;
  const binder = createBinder(options.now, options.paramPrefix);
  const { params, bind, since, instant, valueTest } = binder;

  /** Survivors whose latest value of a trait passes the test; the trait key is a parameter, not a path. */
  function traitMembers(condition: TraitCondition): string {
    return `(SELECT survivor FROM (${latestTraitsOfSurvivors(`key = ${bind('String', condition.trait)}`)}) WHERE ${valueTest('latest', condition)})`;
  }

  /** A trait condition: on the pass's row when it holds the key, else on profile_traits for that key. */
  function traitTest(condition: TraitCondition): string {
    const index = pass?.traitKeys.indexOf(condition.trait) ?? -1;
    // A survivor without the trait holds '', which every test reads as JSON null, as it reads an absent trait.
    if (index >= 0) return valueTest(`trait_values[${bind('UInt64', index + 1)}]`, condition);
    // Live, a profile without the trait at all has no row to test: "does not exist" is the complement of "exists".
    if (condition.exists === false)
      return `(profile_id NOT IN ${traitMembers({ trait: condition.trait, exists: true })})`;
    return `(profile_id IN ${traitMembers(condition)})`;
  }

  /** A behaviour: its count in the pass when the pass counted it, else read from the current events. */
  function behaviourTest(node: Behaviour): string {
    const [lower, upper] =
      'notPerformed' in node ? [0, 0] : [node.atLeast ?? (node.atMost === undefined ? 1 : 0), node.atMost ?? null];
    if (lower === 0 && upper === null) return '1';
    const index = pass?.behaviours.indexOf(behaviourKey(node)) ?? -1;
    const counted = () => `behaviour_counts[${bind('UInt64', index + 1)}]`;
    const atMost = upper === null ? null : bind('UInt64', upper);
    if (lower === 0) {
      // Live, a survivor without any of the events has no count: "at most N" is the complement of "more than N".
      return index >= 0
        ? `(${counted()} <= ${atMost})`
        : `(profile_id NOT IN ${behaviourMembers(binder, node, (count) => `${count} > ${atMost}`)})`;
    }
    const atLeast = bind('UInt64', lower);
    const between = (count: string) =>
      atMost ? `${count} >= ${atLeast} AND ${count} <= ${atMost}` : `${count} >= ${atLeast}`;
    return index >= 0 ? `(${between(counted())})` : `(profile_id IN ${behaviourMembers(binder, node, between)})`;
  }

  function statTest(condition: Extract<SegmentRule, { stat: StatName }>): string {
    const column = statColumns[condition.stat];
    const kind = statKind(condition.stat);
    if (kind === 'channels') return `has(${column}, ${bind('String', condition.contains)})`;
    if (condition.exists !== undefined) return condition.exists ? `(${column} IS NOT NULL)` : `(${column} IS NULL)`;
    if (condition.withinLastDays !== undefined) return `(${column} >= ${since(condition.withinLastDays)})`;
    if (kind === 'date') {
      const operator = condition.before !== undefined ? 'before' : 'after';
      return `(${column} ${comparisons[operator]} ${instant(condition[operator] as string)})`;
    }
    const operator = (['equals', 'gt', 'gte', 'lt', 'lte'] as const).find(
      (key) => condition[key] !== undefined,
    ) as 'equals';
    return `(${column} ${comparisons[operator]} ${bind('Float64', condition[operator])})`;
  }

  function expression(node: SegmentRule): string {
    if ('and' in node) return `(${node.and.map(expression).join(' AND ')})`;
    if ('or' in node) return `(${node.or.map(expression).join(' OR ')})`;
    if ('not' in node) return `(NOT ${expression(node.not)})`;
    // A stat that is NULL (no NPS yet) fails its test, and so passes under `not`: never three-valued logic.
    if ('stat' in node) return `ifNull(${statTest(node)}, 0)`;
    if ('trait' in node) return traitTest(node);
    return behaviourTest(node);
  }

  if (pass) params.pass = pass.id;
  const profiles = pass
    ? "segment_profiles WHERE pass = {pass:UInt64} AND profile_id != '' AND"
    : `(${usesRfm(rule) ? withRfm(statsOfSurvivors()) : statsOfSurvivors()}) WHERE`;
  return { sql: `SELECT profile_id FROM ${profiles} ${expression(rule)}`, params };
}
