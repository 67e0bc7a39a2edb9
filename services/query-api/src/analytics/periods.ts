// The calendar periods (day, week or month in the request's zone) that start inside a window, oldest first.
import type { ClickHouseClient } from '@cdp/runtime';
import { periodsCovering, type AnalyticsPeriod } from '@cdp/schemas';
import { fromParam, periodAfter, periodOf, periodStartsInWindow, rows, scopeParams, type Scope } from './scope';

// Candidates run from the period holding `from` on; those starting before `from` or at `to` and later drop out.
const windowPeriodsQuery = `
  SELECT toString(day) AS period
  FROM (
    SELECT arrayJoin(arrayMap(step -> ${periodAfter('first', 'step')}, range({candidates:UInt32}))) AS day
    FROM (SELECT ${periodOf(fromParam)} AS first)
  )
  WHERE ${periodStartsInWindow('day')}
  ORDER BY day`;

/** First days (YYYY-MM-DD) of the periods starting in the window. */
export async function windowPeriods(client: ClickHouseClient, scope: Scope, period: AnalyticsPeriod): Promise<string[]> {
  const params = { ...scopeParams(scope), period, candidates: periodsCovering(scope, period) };
  return (await rows<{ period: string }>(client, windowPeriodsQuery, params, true)).map((row) => row.period);
}
