// One customer's profile: found by any identifier, read with its identifiers, traits, stats, segments, subscriptions.
import type { ClickHouseClient } from '@cdp/runtime';
import { normaliseEmail, normalisePhone } from '@cdp/schemas';
import { segmentsOfMany } from './membership';
import { rows } from './rows';
import { statsOfMany, traitsOfMany, type ProfileStats } from './stats';
import { subscriptionsOfMany, type SubscriptionChannel, type SubscriptionState } from './subscriptions';
import { ownedIds, ownerOf, storedIdsOfMany, survivorsOfStored } from './survivors';

export const profileRefTypes = [
  'profile_id',
  'user_id',
  'anonymous_id',
  'email',
  'phone',
  'zalo_id',
  'messenger_psid',
] as const;
export type ProfileRefType = (typeof profileRefTypes)[number];

/** How a profile reference is written, for the answer that refuses a malformed one. */
export const refFormat = `a profile is addressed as {type}:{value} with type one of ${profileRefTypes.join(', ')}`;

/** A `{type}:{value}` reference (`user_id:ada`, `phone:+84912345678`) split, or null when it is not one. */
export function parseProfileRef(ref: string): { type: ProfileRefType; value: string } | null {
  const colon = ref.indexOf(':');
  const type = ref.slice(0, colon);
  const value = ref.slice(colon + 1);
  if (colon < 1 || !value || !(profileRefTypes as readonly string[]).includes(type)) return null;
  return { type: type as ProfileRefType, value };
}

export interface Profile {
  profileId: string;
  identities: Array<{ type: string; value: string }>;
  traits: Record<string, unknown>;
  stats: ProfileStats;
  segments: string[];
  /** The latest state each channel was given (email, sms, zalo, push); a channel never stated is absent. */
  subscriptions: Partial<Record<SubscriptionChannel, SubscriptionState>>;
}

/** The identifier's value as the resolver stored it: emails and phones are normalised the same way. */
export function normaliseLookup(type: ProfileRefType, value: string): string | null {
  if (type === 'email') return normaliseEmail(value);
  if (type === 'phone') return normalisePhone(value);
  return value;
}

/** The survivor profile the identifier (or profile id, possibly an absorbed one) resolves to, or null. */
export async function findProfileId(
  client: ClickHouseClient,
  type: ProfileRefType,
  value: string,
): Promise<string | null> {
  return (await findProfileIds(client, [{ type, value }]))[0] ?? null;
}

/** `findProfileId` of many references in one read per kind (identifiers, profile ids): the survivors, in their order. */
export async function findProfileIds(
  client: ClickHouseClient,
  refs: Array<{ type: ProfileRefType; value: string }>,
): Promise<Array<string | null>> {
  const normalised = refs.map((ref) => ({ type: ref.type, value: normaliseLookup(ref.type, ref.value) }));
  const profileIds = [
    ...new Set(normalised.filter((ref) => ref.type === 'profile_id' && ref.value !== null).map((ref) => ref.value!)),
  ];
  const identifiers = normalised.filter((ref) => ref.type !== 'profile_id' && ref.value !== null);
  const known = new Map<string, string>();
  if (profileIds.length > 0)
    for (const row of await rows<{ profile_id: string }>(
      client,
      'profiles.findByProfileId',
      // profile_identifiers holds every id that ever had an identifier, by the primary key; one whose identifiers all
      // moved was absorbed, so profile_merges has it too.
      `SELECT DISTINCT profile_id FROM profile_identifiers WHERE profile_id IN {profileIds:Array(String)}
       UNION DISTINCT SELECT loser_id AS profile_id FROM profile_merges FINAL WHERE loser_id IN {profileIds:Array(String)}`,
      { profileIds },
    ))
      known.set(`profile_id:${row.profile_id}`, row.profile_id);
  if (identifiers.length > 0)
    // Types and values are matched apart, then paired here: a pair asked for is found, one not asked for is dropped.
    for (const row of await rows<{ type: string; value: string; profile_id: string }>(
      client,
      'profiles.findByIdentifier',
      `SELECT type, value, any(profile_id) AS profile_id FROM identities FINAL
       WHERE type IN {types:Array(String)} AND value IN {values:Array(String)} GROUP BY type, value`,
      {
        types: [...new Set(identifiers.map((ref) => ref.type))],
        values: [...new Set(identifiers.map((ref) => ref.value!))],
      },
    ))
      known.set(`${row.type}:${row.value}`, row.profile_id);
  const stored = [...new Set(known.values())];
  const survivors = new Map(
    (await survivorsOfStored(client, stored)).map((survivor, index) => [stored[index]!, survivor]),
  );
  return normalised.map((ref) => {
    const found = ref.value === null ? undefined : known.get(`${ref.type}:${ref.value}`);
    return found === undefined ? null : (survivors.get(found) ?? found);
  });
}

/** The identifiers of one survivor from its stored ids (`storedIdsOf`), each once. */
export async function identifiersOf(
  client: ClickHouseClient,
  storedIds: string[],
): Promise<Array<{ type: string; value: string }>> {
  return rows<{ type: string; value: string }>(
    client,
    'profiles.readIdentifiers',
    `SELECT DISTINCT type, value FROM (
       SELECT type, value FROM profile_identifiers WHERE profile_id IN {storedIds:Array(String)}
       UNION ALL SELECT type, value FROM identities WHERE profile_id IN {storedIds:Array(String)})
     ORDER BY type, value`,
    { storedIds },
  );
}

const identityOrder = ['user_id', 'email', 'phone', 'zalo_id', 'messenger_psid', 'anonymous_id'];

/** The survivor's profile; `segments` lists which of `segmentIds` (the live segments) it is a member of now. */
export async function readProfile(client: ClickHouseClient, profileId: string, segmentIds: string[]): Promise<Profile> {
  return (await readProfiles(client, [profileId], segmentIds)).get(profileId)!;
}

/** Each survivor's identifiers from its stored ids (`storedIdsOfMany`), in one read, ordered by type and value. */
export async function identitiesOfMany(
  client: ClickHouseClient,
  storedIds: Map<string, string[]>,
): Promise<Map<string, Profile['identities']>> {
  const identities = new Map(
    [...storedIds.keys()].map((profileId): [string, Profile['identities']] => [profileId, []]),
  );
  if (storedIds.size === 0) return identities;
  for (const row of await rows<{ owner: string; type: string; value: string }>(
    client,
    'profiles.readIdentities',
    // Through the primary key of profile_identifiers: a survivor's stored ids' pairs there are exactly its identifiers
    // in identities (migration 0018), where a read by profile id would scan every identifier.
    `SELECT DISTINCT ${ownerOf('profile_id')} AS owner, type, value FROM profile_identifiers
     WHERE profile_id IN {stored:Array(String)} ORDER BY owner, type, value`,
    ownedIds(storedIds),
  ))
    identities.get(row.owner)?.push({ type: row.type, value: row.value });
  return identities;
}

/** Many survivors' profiles (`readProfile`) in one read per part, by profile id. */
export async function readProfiles(
  client: ClickHouseClient,
  profileIds: string[],
  segmentIds: string[],
): Promise<Map<string, Profile>> {
  const unique = [...new Set(profileIds)];
  const storedIds = await storedIdsOfMany(client, unique);
  // The parts are independent reads: side by side, each on a connection of its own where the store has several.
  const [identities, traits, stats, segments, subscriptions] = await Promise.all([
    identitiesOfMany(client, storedIds),
    traitsOfMany(client, storedIds),
    statsOfMany(client, storedIds),
    segmentsOfMany(client, unique, segmentIds),
    subscriptionsOfMany(client, storedIds),
  ]);
  return new Map(
    unique.map((profileId) => [
      profileId,
      {
        profileId,
        identities: identities
          .get(profileId)!
          .sort((a, b) => identityOrder.indexOf(a.type) - identityOrder.indexOf(b.type)),
        traits: traits.get(profileId)!,
        stats: stats.get(profileId)!,
        segments: segments.get(profileId)!,
        subscriptions: subscriptions.get(profileId)!,
      },
    ]),
  );
}
