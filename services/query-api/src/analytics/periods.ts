// The calendar periods (day, week or month in the request's zone) that start inside a window, oldest first, and the
// range and parameters of a series over them.
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
export async function windowPeriods(
  client: ClickHouseClient,
  scope: Scope,
  period: AnalyticsPeriod,
): Promise<string[]> {
  const params = { ...scopeParams(scope), period, candidates: periodsCovering(scope, period) };
  return (await rows<{ period: string }>(client, 'analytics.windowPeriods', windowPeriodsQuery, params, true)).map(
    (row) => row.period,
  );
}

// A series covers whole periods: from the first one starting in the window to the end of the last one. Its queries
// name them by the parameters `firstPeriod` and `lastPeriod` that seriesOf binds.
/** The instant a period starting on `day` begins in the request's zone. */
export const periodStart = (day: string) => `toDateTime64(${day}, 3, {tz:String})`;
export const firstPeriod = 'toDate32({firstPeriod:String})';
export const lastPeriod = 'toDate32({lastPeriod:String})';
/** From the start of the first period to the end of the last. */
export const seriesRange = { since: periodStart(firstPeriod), until: periodStart(periodAfter(lastPeriod, '1')) };

/** The periods of a series and the parameters of its queries; no periods when none starts in the window. */
export async function seriesOf(
  client: ClickHouseClient,
  scope: Scope,
  period: AnalyticsPeriod,
): Promise<{ periods: string[]; params: Record<string, unknown> }> {
  const periods = await windowPeriods(client, scope, period);
  return {
    periods,
    params: {
      ...scopeParams(scope),
      period,
      firstPeriod: periods[0] ?? '',
      lastPeriod: periods[periods.length - 1] ?? '',
    },
  };
}
