// Cohort retention: profiles by the period of their first qualifying event ever, and how many come back period by period.
import { toClickHouseTime, type ClickHouseClient } from '@cdp/runtime';
import { longestPeriodMs, periodsCovering, type RetentionQuery, type RetentionResponse } from '@cdp/schemas';
import { windowPeriods } from './periods';
import {
  activePeriods,
  activityBits,
  firstsSince,
  fromParam,
  periodOf,
  periodsBetween,
  periodStartsInWindow,
  rows,
  scopeParams,
  touchpointsPerSurvivor,
  type ActivityWidth,
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

/** The end of the last period any cohort of the window can reach. */
const activityUntil = `{activityUntil:DateTime64(3, 'UTC')}`;
/** The integers a profile's active periods can be held in, one bit each. */
const widths: ActivityWidth[] = [64, 128, 256];

// Purchases are few: each customer's purchases over their whole history decide both the cohort and the activity.
const firstPurchaseCohorts = `
  SELECT profile_id, cohort, active
  FROM ${touchpointsPerSurvivor({ kinds: ['order'] }, [
    { name: 'cohort', perStored: `min(${periodOf('timestamp')})`, combine: 'min' },
    activePeriods,
  ])}`;

// Messages are many: the first one ever comes from profile_firsts (only the profiles that can start a cohort), and
// activity is read only from the window's start to activityUntil. No cohort starts before the window, so no earlier
// activity can count. Sets of days, for the windows whose periods, with the periods after the last cohort, do not fit
// in the widest bit mask (a span counted with 23-hour days: with days, from about six months of window on).
const firstSeenCohorts = (channel: string | undefined) => `
  SELECT first.profile_id AS profile_id, ${periodOf('first.first')} AS cohort, activity.active AS active
  FROM ${firstsSince(fromParam, channel)} AS first
  INNER JOIN ${touchpointsPerSurvivor({ since: fromParam, until: activityUntil }, [activePeriods])} AS activity
    ON first.profile_id = activity.profile_id`;

// The same counts from each profile's active periods as bits counted from the window's first period instead of a set
// of days (cohortsWithBits: `cohort`, the first day of a period from the window's first on, and `active`): a cohort's
// bits are shifted down to the first 64 (at most 60 periods are asked for), and period k after the cohort is bit k.
const countsFromBits = (cohortsWithBits: string) => `
  SELECT toString(cohort) AS cohort_day, periods_later, count() AS profiles
  FROM (
    SELECT cohort, arrayJoin(arrayFilter(k -> bitTest(ahead, k), range({periods:UInt32}))) AS periods_later
    FROM (
      SELECT cohort, toUInt64(bitAnd(bitShiftRight(active, toUInt16(${periodsBetween(periodOf(fromParam), 'cohort')})), 18446744073709551615)) AS ahead
      FROM (${cohortsWithBits})
    )
    WHERE ${periodStartsInWindow('cohort')}
  )
  GROUP BY cohort, periods_later`;

// Purchases as bits: the first purchase ever over the whole history, the activity from the window's start on. A first
// purchase from activityUntil on starts no cohort of the window, and its period would lie past the mask.
const firstPurchaseBits = (width: ActivityWidth) => `
  SELECT ${periodOf('first')} AS cohort, active
  FROM ${touchpointsPerSurvivor({ kinds: ['order'] }, [
    { name: 'first', perStored: 'min(timestamp)', combine: 'min' },
    activityBits(width, activityUntil),
  ])}
  WHERE first >= ${fromParam} AND first < ${activityUntil}`;

// Messages as bits: the first ones from the profiles that can start a cohort, joined with the activity of everyone.
const firstSeenBits = (channel: string | undefined, width: ActivityWidth) => `
  SELECT ${periodOf('first.first')} AS cohort, activity.active AS active
  FROM ${touchpointsPerSurvivor({ since: fromParam, until: activityUntil }, [activityBits(width, activityUntil)])} AS activity
  INNER JOIN ${firstsSince(fromParam, channel)} AS first ON first.profile_id = activity.profile_id
  WHERE first.first < ${activityUntil}`;

interface RetentionRow {
  cohort_day: string;
  periods_later: number;
  profiles: number;
}

export async function retention(client: ClickHouseClient, query: RetentionQuery): Promise<RetentionResponse> {
  const cohorts = new Map(
    (await windowPeriods(client, query, query.period)).map((day) => [day, new Array<number>(query.periods).fill(0)]),
  );
  const activityEnd = query.toMs + (query.periods + 1) * longestPeriodMs[query.period];
  const params = {
    ...scopeParams(query),
    period: query.period,
    periods: query.periods,
    activityUntil: toClickHouseTime(activityEnd),
  };
  // The periods from the window's first to the last any cohort reaches: as bits when they fit in one integer.
  const span = periodsCovering({ fromMs: query.fromMs, toMs: activityEnd }, query.period);
  const width = widths.find((bits) => span <= bits);
  const purchases = query.cohort === 'first_purchase';
  const sql =
    width === undefined
      ? countsPerCohort(purchases ? firstPurchaseCohorts : firstSeenCohorts(query.channel))
      : countsFromBits(purchases ? firstPurchaseBits(width) : firstSeenBits(query.channel, width));
  for (const row of await rows<RetentionRow>(client, 'analytics.retention', sql, params, true)) {
    const retained = cohorts.get(row.cohort_day);
    if (retained) retained[row.periods_later] = row.profiles;
  }
  return { cohorts: [...cohorts].map(([cohort, retained]) => ({ cohort, size: retained[0] ?? 0, retained })) };
}
