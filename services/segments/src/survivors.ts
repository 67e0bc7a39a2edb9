// Stats and traits are stored per stored profile id: these SQL fragments roll them up to survivor profiles.
import { joinSurvivors, profileStatsColumns, survivorOf } from '@cdp/schemas';

// One row per survivor profile with its stats, rolled up from the states of every stored profile id it absorbed.
export const statsOfSurvivors = `
  SELECT
    survivor AS profile_id,
    ${profileStatsColumns}
  FROM (
    SELECT ${survivorOf('stored.profile_id')} AS survivor, stored.*
    FROM profile_stats AS stored ${joinSurvivors('stored.profile_id')}
  ) AS stats
  GROUP BY survivor`;

// Quintiles among customers (≥ 1 order), 5 = most recent / most orders / most revenue; ties broken by profile id so
// the scores are deterministic.
const quintile = (order: string) => `if(stat_orders = 0, NULL, ntile(5) OVER (PARTITION BY stat_orders > 0 ORDER BY ${order}, profile_id))`;
export const withRfm = (stats: string) => `
  SELECT *, ${quintile('stat_last_order_at')} AS stat_rfm_recency, ${quintile('stat_orders')} AS stat_rfm_frequency,
    ${quintile('stat_revenue')} AS stat_rfm_monetary
  FROM (${stats})`;

/** (survivor, key, latest raw JSON value) of the trait keys `keys` (a condition on `key`), merged over absorbed ids. */
export const latestTraitsOfSurvivors = (keys: string) => `
  SELECT ${survivorOf('stored.profile_id')} AS survivor, stored.key AS key, argMaxMerge(stored.value) AS latest
  FROM (SELECT profile_id, key, value FROM profile_traits WHERE ${keys}) AS stored
  ${joinSurvivors('stored.profile_id')}
  GROUP BY survivor, key`;
