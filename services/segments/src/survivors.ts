// Stats and traits are stored per stored profile id: these SQL fragments roll them up to survivor profiles.
import { joinSurvivors, profileStatsColumns, survivorOf } from '@cdp/schemas';

/** A survivor's stats as rules read them, from `profile_id` on (statsOfSurvivors has one more, the order list). */
export const statColumns = `profile_id, stat_events, stat_first_seen, stat_last_seen, stat_orders, stat_revenue, stat_last_order_at, stat_channels,
  stat_latest_nps, stat_latest_csat, stat_open_tickets`;

/** `statColumns` read from the table or subquery named `alias`. */
export const statColumnsOf = (alias: string) => statColumns.split(',').map((column) => `${alias}.${column.trim()}`).join(', ');

/**
 * One row per survivor profile with its stats, rolled up from the states of every stored profile id it absorbed;
 * `storedRows` (a condition on `profile_id`) limits the stored rows read, so it must keep all of a survivor's.
 */
export const statsOfSurvivors = (storedRows = '1') => `
  SELECT
    survivor AS profile_id,
    ${profileStatsColumns}
  FROM (
    SELECT ${survivorOf('stored.profile_id')} AS survivor, stored.*
    FROM (SELECT * FROM profile_stats WHERE ${storedRows}) AS stored ${joinSurvivors('stored.profile_id')}
  ) AS stats
  GROUP BY survivor`;

// Quintiles among customers (≥ 1 order), 5 = most recent / most orders / most revenue; ties broken by profile id so
// the scores are deterministic.
const quintile = (order: string) => `if(stat_orders = 0, NULL, ntile(5) OVER (PARTITION BY stat_orders > 0 ORDER BY ${order}, profile_id))`;
export const withRfm = (stats: string) => `
  SELECT *, ${quintile('stat_last_order_at')} AS stat_rfm_recency, ${quintile('stat_orders')} AS stat_rfm_frequency,
    ${quintile('stat_revenue')} AS stat_rfm_monetary
  FROM (${stats})`;

/**
 * The same scores as `withRfm`, for customers only (`profile_id` and the three scores): the windows then sort four
 * narrow columns instead of every stat, for a LEFT JOIN that leaves everyone else's scores NULL.
 */
const customerQuintile = (order: string) => `toNullable(ntile(5) OVER (ORDER BY ${order}, profile_id))`;
export const rfmOfCustomers = (stats: string) => `
  SELECT profile_id, ${customerQuintile('stat_last_order_at')} AS stat_rfm_recency, ${customerQuintile('stat_orders')} AS stat_rfm_frequency,
    ${customerQuintile('stat_revenue')} AS stat_rfm_monetary
  FROM (SELECT profile_id, stat_last_order_at, stat_orders, stat_revenue FROM (${stats}) WHERE stat_orders > 0)`;

/**
 * (survivor, key, latest raw JSON value) of the profile_traits rows passing `rows` (a condition on `key` and
 * `profile_id`), merged over absorbed ids: a condition on `profile_id` must keep all of a survivor's stored ids.
 */
export const latestTraitsOfSurvivors = (keys: string) => `
  SELECT ${survivorOf('stored.profile_id')} AS survivor, stored.key AS key, argMaxMerge(stored.value) AS latest
  FROM (SELECT profile_id, key, value FROM profile_traits WHERE ${keys}) AS stored
  ${joinSurvivors('stored.profile_id')}
  GROUP BY survivor, key`;
