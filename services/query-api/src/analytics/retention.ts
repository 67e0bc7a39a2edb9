// Cohort retention: profiles by the period of their first qualifying event ever, and how many come back period by period.
import { toClickHouseTime, type ClickHouseClient } from '@cdp/runtime';
import { longestPeriodMs, type RetentionQuery, type RetentionResponse } from '@cdp/schemas';
import { windowPeriods } from './periods';
import {
  activePeriods,
  fromParam,
  periodOf,
  periodsBetween,
  periodStartsInWindow,
  rows,
  scopedFirstSeen,
  scopeParams,
  touchpointsPerSurvivor,
} from './scope';

// One row per (cohort, k) with the profiles of the cohort active k periods after it; k = 0 is every profile of the
// cohort, since its first event is in it.
const countsPerCohort = (cohortsWithActivity: string) => `
  SELECT toString(cohort) AS cohort_day, periods_later, count() AS profiles
  FROM (
    SELECT cohort, arrayJoin(arrayFilter(k -> k < {periods:UInt32}, arrayMap(active_day -> ${periodsBetween('cohort', 'active_day')}, active))) AS periods_later
    FROM (${cohortsWithActivity})
    WHERE ${periodStartsInWindow('cohort')}
  )
  GROUP BY cohort, periods_later`;

// Purchases are few: each customer's purchases over their whole history decide both the cohort and the activity.
const firstPurchaseCohorts = `
  SELECT profile_id, cohort, active
  FROM ${touchpointsPerSurvivor({ kinds: ['order'] }, [
    { name: 'cohort', perStored: `min(${periodOf('timestamp')})`, combine: 'min' },
    activePeriods,
  ])}`;

// Messages are many: the first one ever comes from profile_firsts, and activity is read only from the window's start
// to the end of the last period any cohort of the window can reach. No cohort starts before the window, so no
// earlier activity can count.
const firstSeenCohorts = (channel: string | undefined) => `
  SELECT first.profile_id AS profile_id, ${periodOf('first.first_seen')} AS cohort, activity.active AS active
  FROM ${scopedFirstSeen(channel)} AS first
  INNER JOIN ${touchpointsPerSurvivor({ since: fromParam, until: `{activityUntil:DateTime64(3, 'UTC')}` }, [activePeriods])} AS activity
    ON first.profile_id = activity.profile_id
  WHERE first.first_seen >= ${fromParam}`;

interface RetentionRow {
  cohort_day: string;
  periods_later: number;
  profiles: number;
}

export async function retention(client: ClickHouseClient, query: RetentionQuery): Promise<RetentionResponse> {
  const cohorts = new Map(
    (await windowPeriods(client, query, query.period)).map((day) => [day, new Array<number>(query.periods).fill(0)]),
  );
  const params = {
    ...scopeParams(query),
    period: query.period,
    periods: query.periods,
    activityUntil: toClickHouseTime(query.toMs + (query.periods + 1) * longestPeriodMs[query.period]),
  };
  const sql = countsPerCohort(
    query.cohort === 'first_purchase' ? firstPurchaseCohorts : firstSeenCohorts(query.channel),
  );
  for (const row of await rows<RetentionRow>(client, 'analytics.retention', sql, params, true)) {
    const retained = cohorts.get(row.cohort_day);
    if (retained) retained[row.periods_later] = row.profiles;
  }
  return { cohorts: [...cohorts].map(([cohort, retained]) => ({ cohort, size: retained[0] ?? 0, retained })) };
}
