// Binds the values of a rule to query parameters and tests raw JSON values with them: the only way a value reaches SQL.
import { toClickHouseTime } from '@cdp/runtime';
import { valueOperatorNames, type PropertyFilter, type TraitCondition, type ValueOperator } from '@cdp/schemas';

/** The only parameter types a compiled rule uses. */
type ParamType =
  | 'String'
  | 'Float64'
  | 'UInt8'
  | 'UInt64'
  | "DateTime64(3, 'UTC')"
  | 'Array(String)'
  | 'Array(Float64)'
  | 'Array(UInt8)';

export const dayMs = 86_400_000;
export const comparisons = { gt: '>', gte: '>=', lt: '<', lte: '<=', equals: '=', before: '<', after: '>' } as const;
const numericJson = `('Int64', 'UInt64', 'Double')`;

export type Binder = ReturnType<typeof createBinder>;

/**
 * Parameters `p0`, `p1`, … and `now` (epoch ms `nowMs`), from which every relative window is measured back; with a
 * prefix, `<prefix>p0` …, so that several rules' parameters can meet in one query.
 */
export function createBinder(nowMs: number, prefix = '') {
  const params: Record<string, unknown> = { now: toClickHouseTime(nowMs) };
  let next = 0;
  const bind = (type: ParamType, value: unknown): string => {
    const name = `${prefix}p${next++}`;
    params[name] = value;
    return `{${name}:${type}}`;
  };
  const now = `{now:DateTime64(3, 'UTC')}`;
  const since = (days: number) => bind("DateTime64(3, 'UTC')", toClickHouseTime(nowMs - days * dayMs));
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
        if (booleans.length > 0)
          parts.push(`(${isBool} AND JSONExtractBool(${raw}) IN ${bind('Array(UInt8)', booleans)})`);
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
        return `(${isString} AND ifNull(${asDate} >= ${since(condition.withinLastDays as number)}, 0))`;
    }
  }

  return { params, bind, now, since, instant, valueTest };
}
