// Named ClickHouse queries behind the profile endpoints: find a profile by identifier, read its stats and traits.
import { fromClickHouseTime, type ClickHouseClient } from '@cdp/runtime';
import { normaliseEmail, normalisePhone } from '@cdp/schemas';

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

/** The identifier's value as the resolver stored it: emails and phones are normalised the same way. */
export function normaliseLookup(type: IdentifierType, value: string): string | null {
  if (type === 'email') return normaliseEmail(value);
  if (type === 'phone') return normalisePhone(value);
  return value;
}

/** The survivor profile the identifier (or profile id, possibly an absorbed one) resolves to, or null. */
export async function findProfileId(client: ClickHouseClient, type: IdentifierType, value: string): Promise<string | null> {
  const normalised = normaliseLookup(type, value);
  if (normalised === null) return null;
  const found =
    type === 'profile_id'
      ? await rows<{ profile_id: string }>(
          client,
          `SELECT profile_id FROM identities FINAL WHERE profile_id = {value:String}
           UNION ALL SELECT loser_id AS profile_id FROM profile_merges FINAL WHERE loser_id = {value:String} LIMIT 1`,
          { value: normalised },
        )
      : await rows<{ profile_id: string }>(
          client,
          'SELECT profile_id FROM identities FINAL WHERE type = {type:String} AND value = {value:String} LIMIT 1',
          { type, value: normalised },
        );
  const stored = found[0]?.profile_id;
  if (stored === undefined) return null;
  const merged = await rows<{ survivor_id: string }>(
    client,
    'SELECT survivor_id FROM profile_merges FINAL WHERE loser_id = {stored:String} LIMIT 1',
    { stored },
  );
  return merged[0]?.survivor_id ?? stored;
}

/** Every profile id whose events belong to the survivor: itself and the profiles it absorbed. */
export async function profileIdsOf(client: ClickHouseClient, survivorId: string): Promise<string[]> {
  const losers = await rows<{ loser_id: string }>(
    client,
    'SELECT loser_id FROM profile_merges FINAL WHERE survivor_id = {survivorId:String} AND loser_id != survivor_id',
    { survivorId },
  );
  return [survivorId, ...losers.map((row) => row.loser_id)];
}

/** The profile's events, each messageId once, however often and on whichever of its merged profiles it was stored. */
export const profileEvents = `(SELECT * FROM events WHERE profile_id IN {profileIds:Array(String)} ORDER BY inserted_at LIMIT 1 BY message_id)`;

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
      groupUniqArrayIf(ticket_id, event = 'Ticket Opened'))) AS open_tickets
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
}

const iso = (value: string | null) => (value === null ? null : new Date(fromClickHouseTime(value)).toISOString());

const identityOrder = ['user_id', 'email', 'phone', 'anonymous_id'];

export async function readProfile(client: ClickHouseClient, profileId: string): Promise<Profile> {
  const profileIds = await profileIdsOf(client, profileId);
  const [stats] = await rows<StatsRow>(client, statsQuery, { profileIds });
  const identities = await rows<{ type: string; value: string }>(
    client,
    'SELECT type, value FROM identities FINAL WHERE profile_id IN {profileIds:Array(String)} ORDER BY type, value',
    { profileIds },
  );
  const traitRows = await rows<{ traits: string; context_traits: string }>(
    client,
    `SELECT if(type = 'identify', traits, '{}') AS traits, JSONExtractRaw(context, 'traits') AS context_traits
     FROM ${profileEvents} ORDER BY timestamp, received_at`,
    { profileIds },
  );
  // Later values overwrite earlier ones of the same trait, as in Segment; identify's traits over its context's.
  const traits: Record<string, unknown> = {};
  for (const row of traitRows) Object.assign(traits, parseObject(row.context_traits), parseObject(row.traits));
  const events = Number(stats?.events ?? 0);
  return {
    profileId,
    identities: identities.sort((a, b) => identityOrder.indexOf(a.type) - identityOrder.indexOf(b.type)),
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

function parseObject(json: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json || '{}');
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
