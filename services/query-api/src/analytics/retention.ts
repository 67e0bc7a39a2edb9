// Cohort retention: profiles by the period of their first qualifying event ever, and how many come back period by period.
import type { ClickHouseClient } from '@cdp/runtime';
import type { RetentionQuery, RetentionResponse } from '@cdp/schemas';
import { windowPeriods } from './periods';
import { periodOf, periodsBetween, periodStartsInWindow, rows, scopedMessages, scopedPurchases, scopeParams } from './scope';

// One row per (cohort, k) with the profiles of the cohort active k periods after it; k = 0 is every profile of the
// cohort, since its first event is in it. Profiles are grouped over their whole history, so a cohort is decided by
// the first event ever, before the window included. Purchase cohorts read the purchases alone.
const retentionQuery = (messages: string) => `
  SELECT toString(cohort) AS cohort_day, periods_later, count() AS profiles
  FROM (
    SELECT cohort, arrayJoin(arrayFilter(k -> k < {periods:UInt32}, arrayMap(active_day -> ${periodsBetween('cohort', 'active_day')}, active))) AS periods_later
    FROM (
      SELECT profile_id, min(${periodOf('timestamp')}) AS cohort, groupUniqArray(${periodOf('timestamp')}) AS active
      FROM ${messages}
      WHERE {cohortBy:String} = 'first_seen' OR is_purchase
      GROUP BY profile_id
    )
    WHERE ${periodStartsInWindow('cohort')}
  )
  GROUP BY cohort, periods_later`;

interface RetentionRow {
  cohort_day: string;
  periods_later: number;
  profiles: number;
}

export async function retention(client: ClickHouseClient, query: RetentionQuery): Promise<RetentionResponse> {
  const cohorts = new Map((await windowPeriods(client, query, query.period)).map((day) => [day, new Array<number>(query.periods).fill(0)]));
  const params = { ...scopeParams(query), period: query.period, periods: query.periods, cohortBy: query.cohort };
  const messages = query.cohort === 'first_purchase' ? scopedPurchases : scopedMessages;
  for (const row of await rows<RetentionRow>(client, retentionQuery(messages), params, true)) {
    const retained = cohorts.get(row.cohort_day);
    if (retained) retained[row.periods_later] = row.profiles;
  }
  return { cohorts: [...cohorts].map(([cohort, retained]) => ({ cohort, size: retained[0] ?? 0, retained })) };
}
