// Lifecycle: per period, how many profiles are new, returning, resurrecting, or went dormant (PostHog's stages).
import { toClickHouseTime, type ClickHouseClient } from '@cdp/runtime';
import { longestPeriodMs, type LifecycleQuery, type LifecycleResponse } from '@cdp/schemas';
import { windowPeriods } from './periods';
import {
  activePeriods,
  firstsSince,
  fromParam,
  periodAfter,
  periodOf,
  periodStartsInWindow,
  rows,
  scopeParams,
  touchpointsPerSurvivor,
} from './scope';

// Each profile is looked at in every period it was active in and in the period after each of those (where it may
// have gone dormant); any other period says nothing about it. Its first period ever (profile_firsts) makes it new
// there. A period of the window depends on activity in all of it (the last one may end after the window) and in the
// period before, so activity is read from one longest period before the window to one longest period after it. Only
// a first period that starts in the window can be a window's period, so only firsts from the window's start are read:
// a profile first seen earlier (or with no first message on the channel) joins none, and has no first_day any period
// of a window equals: NULL for a channel's first, else the period of 1970-01-01 (windows lie from 2000 to 2100).
const lifecycleQuery = (channel: string | undefined) => `
  SELECT toString(day) AS period, stage, count() AS profiles
  FROM (
    SELECT
      arrayJoin(arrayDistinct(arrayConcat(active, arrayMap(active_day -> ${periodAfter('active_day', '1')}, active)))) AS day,
      multiIf(
        NOT has(active, day), 'dormant',
        day = first_day, 'new',
        has(active, ${periodAfter('day', '-1')}), 'returning',
        'resurrecting') AS stage
    FROM (
      SELECT activity.profile_id AS profile_id, ${periodOf('first.first')} AS first_day, activity.active AS active
      FROM ${touchpointsPerSurvivor({ since: `{activitySince:DateTime64(3, 'UTC')}`, until: `{activityUntil:DateTime64(3, 'UTC')}` }, [activePeriods])} AS activity
      LEFT JOIN ${firstsSince(fromParam, channel)} AS first ON activity.profile_id = first.profile_id
    )
  )
  WHERE ${periodStartsInWindow('day')}
  GROUP BY day, stage`;

type Stage = 'new' | 'returning' | 'resurrecting' | 'dormant';

export async function lifecycle(client: ClickHouseClient, query: LifecycleQuery): Promise<LifecycleResponse> {
  const periods = new Map(
    (await windowPeriods(client, query, query.period)).map((period) => [
      period,
      { period, new: 0, returning: 0, resurrecting: 0, dormant: 0 },
    ]),
  );
  const longest = longestPeriodMs[query.period];
  const params = {
    ...scopeParams(query),
    period: query.period,
    activitySince: toClickHouseTime(query.fromMs - longest),
    activityUntil: toClickHouseTime(query.toMs + longest),
  };
  for (const row of await rows<{ period: string; stage: Stage; profiles: number }>(
    client,
    'analytics.lifecycle',
    lifecycleQuery(query.channel),
    params,
    true,
  )) {
    const counts = periods.get(row.period);
    if (counts) counts[row.stage] = row.profiles;
  }
  return { periods: [...periods.values()] };
}
