// Named ClickHouse queries behind the profile endpoints: find a profile by identifier, read its stats and traits.
import { fromClickHouseTime, type ClickHouseClient } from '@cdp/runtime';
import { normaliseEmail, normalisePhone, profileStatsColumns } from '@cdp/schemas';
import { segmentsOfProfile } from '@cdp/segments';

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
  /** The latest state each channel was given (email, sms, zalo, push); a channel never stated is absent. */
  subscriptions: Partial<Record<SubscriptionChannel, 'subscribed' | 'unsubscribed'>>;
}

export const subscriptionChannels = ['email', 'sms', 'zalo', 'push'] as const;
export type SubscriptionChannel = (typeof subscriptionChannels)[number];

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

// Stats and traits come from the tables the materialized views keep (0011_profile_stats.sql): merging the states
// of every profile id the survivor absorbed is what rolls events stored before a merge up into it.
const statsQuery = `
  SELECT ${profileStatsColumns}
  FROM profile_stats AS stats
  WHERE stats.profile_id IN {profileIds:Array(String)}`;

const subscriptionsQuery = `
  SELECT channel, argMaxMerge(state) AS state
  FROM profile_subscriptions
  WHERE profile_id IN {profileIds:Array(String)}
  GROUP BY channel
  ORDER BY channel`;

const traitsQuery = `
  SELECT trait.key AS key, argMaxMerge(trait.value) AS value
  FROM profile_traits AS trait
  WHERE trait.profile_id IN {profileIds:Array(String)}
  GROUP BY trait.key
  ORDER BY trait.key`;

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

const identityOrder = ['user_id', 'email', 'phone', 'anonymous_id'];

export async function readProfile(client: ClickHouseClient, profileId: string): Promise<Profile> {
  const profileIds = await profileIdsOf(client, profileId);
  const [stats] = await rows<StatsRow>(client, statsQuery, { profileIds });
  const identities = await rows<{ type: string; value: string }>(
    client,
    'SELECT type, value FROM identities FINAL WHERE profile_id IN {profileIds:Array(String)} ORDER BY type, value',
    { profileIds },
  );
  const traits: Record<string, unknown> = {};
  for (const row of await rows<{ key: string; value: string }>(client, traitsQuery, { profileIds })) {
    traits[row.key] = parseJson(row.value);
  }
  const events = Number(stats?.stat_events ?? 0);
  return {
    profileId,
    identities: identities.sort((a, b) => identityOrder.indexOf(a.type) - identityOrder.indexOf(b.type)),
    traits,
    stats: {
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
    },
    segments: await segmentsOfProfile(client, profileId),
    subscriptions: Object.fromEntries(
      (await rows<{ channel: SubscriptionChannel; state: 'subscribed' | 'unsubscribed' }>(client, subscriptionsQuery, { profileIds })).map((row) => [row.channel, row.state]),
    ),
  };
}

/** A trait's stored JSON text back as a value; ClickHouse keeps it raw, exactly as the client sent it. */
function parseJson(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return json;
  }
}
