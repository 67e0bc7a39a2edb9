// Lifecycle: per period, how many profiles are new, returning, resurrecting, or went dormant (PostHog's stages).
import type { ClickHouseClient } from '@cdp/runtime';
import type { LifecycleQuery, LifecycleResponse } from '@cdp/schemas';
import { windowPeriods } from './periods';
import { periodAfter, periodOf, periodStartsInWindow, rows, scopedMessages, scopeParams } from './scope';

// Each profile is looked at in every period it was active in and in the period after each of those (where it may
// have gone dormant); any other period says nothing about it. Its first period ever makes it new there.
const lifecycleQuery = `
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
      SELECT profile_id, min(${periodOf('timestamp')}) AS first_day, groupUniqArray(${periodOf('timestamp')}) AS active
      FROM ${scopedMessages}
      GROUP BY profile_id
    )
  )
  WHERE ${periodStartsInWindow('day')}
  GROUP BY day, stage`;

type Stage = 'new' | 'returning' | 'resurrecting' | 'dormant';

export async function lifecycle(client: ClickHouseClient, query: LifecycleQuery): Promise<LifecycleResponse> {
  const periods = new Map(
    (await windowPeriods(client, query, query.period)).map((period) => [period, { period, new: 0, returning: 0, resurrecting: 0, dormant: 0 }]),
  );
  const params = { ...scopeParams(query), period: query.period };
  for (const row of await rows<{ period: string; stage: Stage; profiles: number }>(client, lifecycleQuery, params, true)) {
    const counts = periods.get(row.period);
    if (counts) counts[row.stage] = row.profiles;
  }
  return { periods: [...periods.values()] };
}
