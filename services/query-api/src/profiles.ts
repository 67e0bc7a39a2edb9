// Named ClickHouse queries behind the profile endpoints: find a profile by identifier, read its stats and traits.
import { fromClickHouseTime, type ClickHouseClient } from '@cdp/runtime';

export const identifierTypes = ['profile_id', 'user_id', 'anonymous_id', 'email', 'phone'] as const;
export type IdentifierType = (typeof identifierTypes)[number];

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

export interface Profile {
  profileId: string;
  identities: Array<{ type: string; value: string }>;
  traits: Record<string, unknown>;
  stats: ProfileStats;
  segments: string[];
}

async function rows<T>(client: ClickHouseClient, query: string, params: Record<string, unknown>): Promise<T[]> {
  const result = await client.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}

export async function findProfileId(client: ClickHouseClient, type: IdentifierType, value: string): Promise<string | null> {
  if (type === 'profile_id') {
    const found = await rows<{ n: number }>(client, 'SELECT count() AS n FROM identities FINAL WHERE profile_id = {value:String}', { value });
    return Number(found[0]?.n ?? 0) > 0 ? value : null;
  }
  const found = await rows<{ profile_id: string }>(
    client,
    'SELECT profile_id FROM identities FINAL WHERE type = {type:String} AND value = {value:String} LIMIT 1',
    { type, value },
  );
  return found[0]?.profile_id ?? null;
}

/** The profile's events, each messageId once, however often it was delivered. */
const profileEvents = `(SELECT * FROM events WHERE profile_id = {profileId:String} ORDER BY inserted_at LIMIT 1 BY message_id)`;

const statsQuery = `
  SELECT
    count() AS events,
    toString(min(timestamp)) AS first_seen,
    toString(max(timestamp)) AS last_seen,
    countIf(is_order) AS orders,
    sumIf(coalesce(JSONExtract(properties, 'revenue', 'Nullable(Float64)'), JSONExtract(properties, 'total', 'Nullable(Float64)'), 0), is_order) AS revenue,
    if(orders = 0, NULL, toString(maxIf(timestamp, is_order))) AS last_order_at,
    arraySort(groupUniqArray(channel)) AS channels,
    if(countIf(survey = 'nps') = 0, NULL, argMaxIf(score, timestamp, survey = 'nps')) AS latest_nps,
    if(countIf(survey = 'csat') = 0, NULL, argMaxIf(score, timestamp, survey = 'csat')) AS latest_csat,
    length(arrayFilter(t -> NOT has(groupUniqArrayIf(ticket_id, event = 'Ticket Resolved'), t),
      groupUniqArrayIf(ticket_id, event = 'Ticket Opened'))) AS open_tickets,
    groupUniqArrayIf(user_id, user_id != '') AS user_ids,
    groupUniqArrayIf(anonymous_id, anonymous_id != '') AS anonymous_ids
  FROM (
    SELECT *,
      type = 'track' AND event = 'Order Completed' AS is_order,
      if(event = 'Survey Responded', JSONExtractString(properties, 'survey'), '') AS survey,
      JSONExtractFloat(properties, 'score') AS score,
      JSONExtractString(properties, 'ticket_id') AS ticket_id
    FROM ${profileEvents}
  )`;

interface StatsRow {
  events: number;
  first_seen: string;
  last_seen: string;
  orders: number;
  revenue: number;
  last_order_at: string | null;
  channels: string[];
  latest_nps: number | null;
  latest_csat: number | null;
  open_tickets: number;
  user_ids: string[];
  anonymous_ids: string[];
}

const iso = (value: string | null) => (value === null ? null : new Date(fromClickHouseTime(value)).toISOString());

export async function readProfile(client: ClickHouseClient, profileId: string): Promise<Profile> {
  const [stats] = await rows<StatsRow>(client, statsQuery, { profileId });
  const traitRows = await rows<{ traits: string }>(
    client,
    `SELECT traits FROM ${profileEvents} WHERE type = 'identify' ORDER BY timestamp, received_at`,
    { profileId },
  );
  // Later identify calls overwrite earlier values of the same trait, as in Segment.
  const traits = Object.assign({}, ...traitRows.map((row) => JSON.parse(row.traits) as Record<string, unknown>)) as Record<string, unknown>;
  const events = Number(stats?.events ?? 0);
  return {
    profileId,
    identities: [
      ...(stats?.user_ids ?? []).sort().map((value) => ({ type: 'user_id', value })),
      ...(stats?.anonymous_ids ?? []).sort().map((value) => ({ type: 'anonymous_id', value })),
    ],
    traits,
    stats: {
      firstSeen: events > 0 && stats ? iso(stats.first_seen) : null,
      lastSeen: events > 0 && stats ? iso(stats.last_seen) : null,
      events,
      orders: Number(stats?.orders ?? 0),
      revenue: Number(stats?.revenue ?? 0),
      lastOrderAt: iso(stats?.last_order_at ?? null),
      channels: stats?.channels ?? [],
      latestNps: stats?.latest_nps ?? null,
      latestCsat: stats?.latest_csat ?? null,
      openTickets: Number(stats?.open_tickets ?? 0),
    },
    segments: [],
  };
}
