// One customer's profile: found by any identifier, read with its identifiers, traits, stats, segments, subscriptions.
import type { ClickHouseClient } from '@cdp/runtime';
import { normaliseEmail, normalisePhone } from '@cdp/schemas';
import { segmentsOf } from './membership';
import { rows } from './rows';
import { statsOf, traitsOf, type ProfileStats } from './stats';
import { subscriptionsOf, type SubscriptionChannel, type SubscriptionState } from './subscriptions';
import { storedIdsOf, survivorOfStored } from './survivors';

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
  const normalised = normaliseLookup(type, value);
  if (normalised === null) return null;
  const found =
    type === 'profile_id'
      ? await rows<{ profile_id: string }>(
          client,
          'profiles.findByProfileId',
          `SELECT profile_id FROM identities FINAL WHERE profile_id = {value:String}
           UNION ALL SELECT loser_id AS profile_id FROM profile_merges FINAL WHERE loser_id = {value:String} LIMIT 1`,
          { value: normalised },
        )
      : await rows<{ profile_id: string }>(
          client,
          'profiles.findByIdentifier',
          'SELECT profile_id FROM identities FINAL WHERE type = {type:String} AND value = {value:String} LIMIT 1',
          { type, value: normalised },
        );
  const stored = found[0]?.profile_id;
  return stored === undefined ? null : survivorOfStored(client, stored);
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
  const storedIds = await storedIdsOf(client, profileId);
  const identities = await rows<{ type: string; value: string }>(
    client,
    'profiles.readIdentities',
    'SELECT type, value FROM identities FINAL WHERE profile_id IN {storedIds:Array(String)} ORDER BY type, value',
    { storedIds },
  );
  return {
    profileId,
    identities: identities.sort((a, b) => identityOrder.indexOf(a.type) - identityOrder.indexOf(b.type)),
    traits: await traitsOf(client, storedIds),
    stats: await statsOf(client, storedIds),
    segments: await segmentsOf(client, profileId, segmentIds),
    subscriptions: await subscriptionsOf(client, storedIds),
  };
}
