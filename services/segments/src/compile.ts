// Compiles a validated segment rule to one ClickHouse query of its members' survivor profile ids, values bound only.
import { toClickHouseTime } from '@cdp/runtime';
import { profileStatsColumns, statKind, valueOperatorNames, type PropertyFilter, type SegmentRule, type StatName, type TraitCondition, type ValueOperator } from '@cdp/schemas';

export interface CompiledRule {
  /** `SELECT profile_id FROM … WHERE …`: one row per member, a survivor profile id; no ORDER BY. */
  sql: string;
  params: Record<string, unknown>;
}

/** The only parameter types a compiled rule uses. */
type ParamType = 'String' | 'Float64' | 'UInt8' | 'UInt64' | "DateTime64(3, 'UTC')" | 'Array(String)' | 'Array(Float64)' | 'Array(UInt8)';

const dayMs = 86_400_000;

/** Stored profile id → its final survivor; ids never merged are not in it (a LEFT JOIN then gives ''). */
const survivorMap = '(SELECT loser_id, survivor_id FROM profile_merges FINAL)';

// One row per survivor profile with its stats, rolled up from the states of every stored profile id it absorbed.
const statsOfSurvivors = `
  SELECT
    survivor AS profile_id,
    ${profileStatsColumns}
  FROM (
    SELECT if(merge.survivor_id = '', stored.profile_id, merge.survivor_id) AS survivor, stored.*
    FROM profile_stats AS stored LEFT JOIN ${survivorMap} AS merge ON stored.profile_id = merge.loser_id
  ) AS stats
  GROUP BY survivor`;

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

// Quintiles among customers (≥ 1 order), 5 = most recent / most orders / most revenue; ties broken by profile id so
// the scores are deterministic. Only rules that name an RFM score pay for the window functions.
const quintile = (order: string) => `if(stat_orders = 0, NULL, ntile(5) OVER (PARTITION BY stat_orders > 0 ORDER BY ${order}, profile_id))`;
const withRfm = (stats: string) => `
  SELECT *, ${quintile('stat_last_order_at')} AS stat_rfm_recency, ${quintile('stat_orders')} AS stat_rfm_frequency,
    ${quintile('stat_revenue')} AS stat_rfm_monetary
  FROM (${stats})`;
const usesRfm = (rule: SegmentRule): boolean =>
  'and' in rule ? rule.and.some(usesRfm) : 'or' in rule ? rule.or.some(usesRfm) : 'not' in rule ? usesRfm(rule.not) : 'stat' in rule && rule.stat.startsWith('rfm');

const comparisons = { gt: '>', gte: '>=', lt: '<', lte: '<=', equals: '=', before: '<', after: '>' } as const;
const numericJson = `('Int64', 'UInt64', 'Double')`;

/** Compiles `rule` as seen at instant `now` (epoch ms): every relative window is measured back from it. */
export function compileRule(rule: SegmentRule, options: { now: number }): CompiledRule {
  const params: Record<string, unknown> = { now: toClickHouseTime(options.now) };
  let next = 0;
  const bind = (type: ParamType, value: unknown): string => {
    const name = `p${next++}`;
    params[name] = value;
    return `{${name}:${type}}`;
  };
  const now = `{now:DateTime64(3, 'UTC')}`;
  const since = (days: number) => bind("DateTime64(3, 'UTC')", toClickHouseTime(options.now - days * dayMs));
  const instant = (iso: string) => bind("DateTime64(3, 'UTC')", toClickHouseTime(Date.parse(iso)));

  /** A test of one raw JSON value (a trait, an event property); absent and null are JSON type 'Null'. */
  function valueTest(raw: string, condition: TraitCondition | PropertyFilter): string {
    // Validation left exactly one operator on the condition.
    const operator = valueOperatorNames.find((key) => condition[key] !== undefined) as ValueOperator;
    const asString = `JSONExtractString(${raw})`;
    const asNumber = `JSONExtractFloat(${raw})`;
    const asDate = `parseDateTime64BestEffortOrNull(${asString}, 3, 'UTC')`;
    const isString = `JSONType(${raw}) = 'String'`;
    const isNumber = `JSONType(${raw}) IN ${numericJson}`;
    const isBool = `JSONType(${raw}) = 'Bool'`;
    const scalarEquals = (value: string | number | boolean) => {
      if (typeof value === 'string') return `(${isString} AND ${asString} = ${bind('String', value)})`;
      if (typeof value === 'number') return `(${isNumber} AND ${asNumber} = ${bind('Float64', value)})`;
      return `(${isBool} AND JSONExtractBool(${raw}) = ${bind('UInt8', value ? 1 : 0)})`;
    };
    switch (operator) {
      case 'equals':
        return scalarEquals(condition.equals as string | number | boolean);
      case 'in': {
        const values = condition.in ?? [];
        const strings = values.filter((value) => typeof value === 'string');
        const numbers = values.filter((value) => typeof value === 'number');
        const booleans = values.filter((value) => typeof value === 'boolean').map((value) => (value ? 1 : 0));
        const parts: string[] = [];
        if (strings.length > 0) parts.push(`(${isString} AND ${asString} IN ${bind('Array(String)', strings)})`);
        if (numbers.length > 0) parts.push(`(${isNumber} AND ${asNumber} IN ${bind('Array(Float64)', numbers)})`);
        if (booleans.length > 0) parts.push(`(${isBool} AND JSONExtractBool(${raw}) IN ${bind('Array(UInt8)', booleans)})`);
        return `(${parts.join(' OR ')})`;
      }
      case 'contains':
        return `(${isString} AND position(${asString}, ${bind('String', condition.contains)}) > 0)`;
      case 'exists':
        return condition.exists ? `(JSONType(${raw}) != 'Null')` : `(JSONType(${raw}) = 'Null')`;
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        return `(${isNumber} AND ${asNumber} ${comparisons[operator]} ${bind('Float64', condition[operator])})`;
      case 'before':
      case 'after':
        return `(${isString} AND ifNull(${asDate} ${comparisons[operator]} ${instant(condition[operator] as string)}, 0))`;
      case 'withinLastDays':
        return `(${isString} AND ifNull(${asDate} >= ${since(condition.withinLastDays as number)} AND ${asDate} <= ${now}, 0))`;
    }
  }

  /** Survivors whose latest value of a trait passes the test; the trait key is a parameter, not a path. */
  function traitMembers(condition: TraitCondition): string {
    return `(
      SELECT survivor FROM (
        SELECT if(merge.survivor_id = '', trait.profile_id, merge.survivor_id) AS survivor, argMaxMerge(trait.value) AS latest
        FROM (SELECT profile_id, value FROM profile_traits WHERE key = ${bind('String', condition.trait)}) AS trait
        LEFT JOIN ${survivorMap} AS merge ON trait.profile_id = merge.loser_id
        GROUP BY survivor
      ) WHERE ${valueTest('latest', condition)})`;
  }

  /** Survivors with more than `atLeast - 1` (and at most `atMost`) matching events in the window. */
  function eventCounts(event: string, where: PropertyFilter[] | undefined, withinDays: number | undefined, having: (count: string) => string): string {
    const filters = [`event = ${bind('String', event)}`, `timestamp <= ${now}`];
    if (withinDays !== undefined) filters.push(`timestamp >= ${since(withinDays)}`);
    for (const filter of where ?? []) filters.push(valueTest(`JSONExtractRaw(properties, ${bind('String', filter.property)})`, filter));
    const matching = filters.join(' AND ');
    // resolved_events keeps each messageId's first copy, which takes sorting every stored event. A first copy that
    // matches is a stored row that matches, so narrowing to the ids of matching rows first changes no result and
    // leaves only those to sort (on 10M events about 4× faster).
    return `(SELECT profile_id FROM resolved_events WHERE message_id IN (SELECT message_id FROM events WHERE ${matching}) AND ${matching}
      GROUP BY profile_id HAVING ${having('count()')})`;
  }

  function statTest(condition: Extract<SegmentRule, { stat: StatName }>): string {
    const column = statColumns[condition.stat];
    const kind = statKind(condition.stat);
    if (kind === 'channels') return `has(${column}, ${bind('String', condition.contains)})`;
    if (condition.exists !== undefined) return condition.exists ? `(${column} IS NOT NULL)` : `(${column} IS NULL)`;
    if (condition.withinLastDays !== undefined) return `(${column} >= ${since(condition.withinLastDays)} AND ${column} <= ${now})`;
    if (kind === 'date') {
      const operator = condition.before !== undefined ? 'before' : 'after';
      return `(${column} ${comparisons[operator]} ${instant(condition[operator] as string)})`;
    }
    const operator = (['equals', 'gt', 'gte', 'lt', 'lte'] as const).find((key) => condition[key] !== undefined) as 'equals';
    return `(${column} ${comparisons[operator]} ${bind('Float64', condition[operator])})`;
  }

  function expression(node: SegmentRule): string {
    if ('and' in node) return `(${node.and.map(expression).join(' AND ')})`;
    if ('or' in node) return `(${node.or.map(expression).join(' OR ')})`;
    if ('not' in node) return `(NOT ${expression(node.not)})`;
    // A stat that is NULL (no NPS yet) fails its test, and so passes under `not`: never three-valued logic.
    if ('stat' in node) return `ifNull(${statTest(node)}, 0)`;
    // A profile without the trait at all has no row to test: "does not exist" is the complement of "exists".
    if ('trait' in node && node.exists === false) return `(profile_id NOT IN ${traitMembers({ trait: node.trait, exists: true })})`;
    if ('trait' in node) return `(profile_id IN ${traitMembers(node)})`;
    if ('notPerformed' in node) return `(profile_id NOT IN ${eventCounts(node.notPerformed, node.where, node.withinDays, (count) => `${count} > 0`)})`;
    const { atLeast, atMost } = node;
    if (atMost !== undefined && (atLeast ?? 0) === 0) {
      // "At most N" includes the profiles that never did it: complement of "more than N".
      return `(profile_id NOT IN ${eventCounts(node.event, node.where, node.withinDays, (count) => `${count} > ${bind('UInt64', atMost)}`)})`;
    }
    if (atLeast === 0) return '1';
    const lower = bind('UInt64', atLeast ?? 1);
    const upper = atMost === undefined ? null : bind('UInt64', atMost);
    return `(profile_id IN ${eventCounts(node.event, node.where, node.withinDays, (count) => (upper ? `${count} >= ${lower} AND ${count} <= ${upper}` : `${count} >= ${lower}`))})`;
  }

  const stats = usesRfm(rule) ? withRfm(statsOfSurvivors) : statsOfSurvivors;
  const sql = `SELECT profile_id FROM (${stats}) WHERE ${expression(rule)}`;
  return { sql, params };
}
