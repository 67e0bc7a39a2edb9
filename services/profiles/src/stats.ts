// Stats and traits are stored per stored profile id (profile_stats, profile_traits: migration 0011); these roll them
// up to survivor profiles, for one profile or for everyone.
import { fromClickHouseTime, named, type ClickHouseClient } from '@cdp/runtime';
import { joinSurvivors, ownedIds, ownerOf, survivorOf } from './survivors';

/**
 * The select list that merges the states of the `profile_stats` rows aliased `stats` into one row of `stat_*`
 * columns: group by the survivor profile to roll up every stored profile id it absorbed. The sets (orders, channels,
 * tickets) are gathered whole and made distinct once per survivor, not kept in a hash set per group as
 * `groupUniqArrayArray` does: the same sets in about half the time over a million survivors, most of whom have a few
 * rows each. The orders are sorted, so their revenue is summed in one order however the rows were read.
 */
export const profileStatsColumns = `
    uniqExactMerge(stats.messages) AS stat_events,
    min(stats.first_seen) AS stat_first_seen,
    max(stats.last_seen) AS stat_last_seen,
    arraySort(arrayDistinct(groupArrayArray(stats.orders))) AS stat_order_list,
    length(stat_order_list) AS stat_orders,
    arraySum(order -> order.2, stat_order_list) AS stat_revenue,
    if(stat_orders = 0, NULL, max(stats.last_order_at)) AS stat_last_order_at,
    arraySort(arrayDistinct(groupArrayArray(stats.channels))) AS stat_channels,
    argMaxMerge(stats.latest_nps) AS stat_latest_nps,
    argMaxMerge(stats.latest_csat) AS stat_latest_csat,
    length(arrayFilter(ticket -> NOT has(groupArrayArray(stats.tickets_resolved), ticket), arrayDistinct(groupArrayArray(stats.tickets_opened)))) AS stat_open_tickets`;

/** A survivor's stats as rules read them, from `profile_id` on (statsOfSurvivors has one more, the order list). */
export const statColumns = `profile_id, stat_events, stat_first_seen, stat_last_seen, stat_orders, stat_revenue, stat_last_order_at, stat_channels,
  stat_latest_nps, stat_latest_csat, stat_open_tickets`;

/** `statColumns` read from the table or subquery named `alias`. */
export const statColumnsOf = (alias: string) =>
  statColumns
    .split(',')
    .map((column) => `${alias}.${column.trim()}`)
    .join(', ');

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
const quintile = (order: string) =>
  `if(stat_orders = 0, NULL, ntile(5) OVER (PARTITION BY stat_orders > 0 ORDER BY ${order}, profile_id))`;
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

/** A profile's stats as the API shows them. */
export interface ProfileStats {
  firstSeen: string | null;
  lastSeen: string | null;
  events: number;
  orders: number;
  revenue: number;
  lastOrderAt: string | null;
  channels: string[];
  latestNps: number | null;
  latestCsat: number | null;
  openTickets: number;
}

interface StatsRow {
  stat_events: number;
  stat_first_seen: string;
  stat_last_seen: string;
  stat_orders: number;
  stat_revenue: number;
  stat_last_order_at: string | null;
  stat_channels: string[];
  stat_latest_nps: number | null;
  stat_latest_csat: number | null;
  stat_open_tickets: number;
}

const iso = (value: string | null) => (value === null ? null : new Date(fromClickHouseTime(value)).toISOString());

const statsOfRow = (stats: StatsRow | undefined): ProfileStats => {
  const events = Number(stats?.stat_events ?? 0);
  return {
    firstSeen: events > 0 && stats ? iso(stats.stat_first_seen) : null,
    lastSeen: events > 0 && stats ? iso(stats.stat_last_seen) : null,
    events,
    orders: Number(stats?.stat_orders ?? 0),
    revenue: Number(stats?.stat_revenue ?? 0),
    lastOrderAt: iso(stats?.stat_last_order_at ?? null),
    channels: stats?.stat_channels ?? [],
    latestNps: stats?.stat_latest_nps ?? null,
    latestCsat: stats?.stat_latest_csat ?? null,
    openTickets: Number(stats?.stat_open_tickets ?? 0),
  };
};

/** The stats of one survivor from the states of its stored ids (`storedIdsOf`): zeros and nulls for none. */
export const statsOf = async (client: ClickHouseClient, storedIds: string[]): Promise<ProfileStats> =>
  (await statsOfMany(client, new Map([[storedIds[0] ?? '', storedIds]]))).get(storedIds[0] ?? '')!;

/** The stats of each survivor from the states of its stored ids (`storedIdsOfMany`): zeros and nulls for none. */
export async function statsOfMany(
  client: ClickHouseClient,
  storedIds: Map<string, string[]>,
): Promise<Map<string, ProfileStats>> {
  const result = await client.query(
    named('profiles.readStats', {
      query: `SELECT ${ownerOf('stats.profile_id')} AS owner, ${profileStatsColumns}
        FROM profile_stats AS stats WHERE stats.profile_id IN {stored:Array(String)} GROUP BY owner`,
      query_params: ownedIds(storedIds),
      format: 'JSONEachRow',
    }),
  );
  const found = new Map((await result.json<StatsRow & { owner: string }>()).map((row) => [row.owner, row]));
  return new Map([...storedIds.keys()].map((owner) => [owner, statsOfRow(found.get(owner))]));
}

/** A trait's stored raw JSON value read by JavaScript; text that is not JSON stays text. */
export const parseTraitValue = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
};

/** The latest value of every trait of one survivor, from its stored ids (`storedIdsOf`), by key. */
export const traitsOf = async (client: ClickHouseClient, storedIds: string[]): Promise<Record<string, unknown>> =>
  (await traitsOfMany(client, new Map([[storedIds[0] ?? '', storedIds]]))).get(storedIds[0] ?? '')!;

/** The latest value of every trait of each survivor, from its stored ids (`storedIdsOfMany`), by key. */
export async function traitsOfMany(
  client: ClickHouseClient,
  storedIds: Map<string, string[]>,
): Promise<Map<string, Record<string, unknown>>> {
  const result = await client.query(
    named('profiles.readTraits', {
      query: `SELECT ${ownerOf('profile_id')} AS owner, key, argMaxMerge(value) AS value FROM profile_traits
        WHERE profile_id IN {stored:Array(String)} GROUP BY owner, key ORDER BY owner, key`,
      query_params: ownedIds(storedIds),
      format: 'JSONEachRow',
    }),
  );
  const traits = new Map([...storedIds.keys()].map((owner): [string, Record<string, unknown>] => [owner, {}]));
  for (const row of await result.json<{ owner: string; key: string; value: string }>()) {
    const owned = traits.get(row.owner);
    if (owned) owned[row.key] = parseTraitValue(row.value);
  }
  return traits;
}

/**
 * A page of the survivors holding the trait `key`, after the survivor id `after` in id order: each with the trait's
 * latest value, parsed. Paging by id keeps a caller's memory flat over any number of profiles.
 */
export async function traitValuesPage(
  client: ClickHouseClient,
  key: string,
  after: string,
  limit: number,
): Promise<Array<{ profileId: string; value: unknown }>> {
  const result = await client.query(
    named('profiles.traitValuesPage', {
      query: `SELECT survivor, latest FROM (${latestTraitsOfSurvivors('key = {key:String}')})
        WHERE survivor > {after:String} ORDER BY survivor LIMIT {limit:UInt32}`,
      query_params: { key, after, limit },
      format: 'JSONEachRow',
    }),
  );
  return (await result.json<{ survivor: string; latest: string }>()).map((row) => ({
    profileId: row.survivor,
    value: parseTraitValue(row.latest),
  }));
}
