// Each profile's latest subscription state per channel (profile_subscriptions, migration 0021), rolled up to survivors.
import { named, type ClickHouseClient } from '@cdp/runtime';
import { joinSurvivors, ownedIds, ownerOf, survivorOf } from './survivors';

/** The channels a subscription state is kept for. */
export const subscriptionChannels = ['email', 'sms', 'zalo', 'push'] as const;
export type SubscriptionChannel = (typeof subscriptionChannels)[number];
export type SubscriptionState = 'subscribed' | 'unsubscribed';

/**
 * Survivors whose latest state (over every profile they absorbed) for the channel in the query parameter
 * `channelParam` is subscribed.
 */
export const subscribersOf = (channelParam: string) => `
  SELECT survivor FROM (
    SELECT ${survivorOf('sub.profile_id')} AS survivor, argMaxMerge(sub.state) AS state
    FROM profile_subscriptions AS sub
    ${joinSurvivors('sub.profile_id')}
    WHERE sub.channel = ${channelParam}
    GROUP BY survivor)
  WHERE state = 'subscribed'`;

/** The latest state of each channel of each survivor, from its stored ids (`storedIdsOfMany`); a channel never stated is absent. */
export async function subscriptionsOfMany(
  client: ClickHouseClient,
  storedIds: Map<string, string[]>,
): Promise<Map<string, Partial<Record<SubscriptionChannel, SubscriptionState>>>> {
  const result = await client.query(
    named('profiles.readSubscriptions', {
      query: `SELECT ${ownerOf('profile_id')} AS owner, channel, argMaxMerge(state) AS state FROM profile_subscriptions
      WHERE profile_id IN {stored:Array(String)} GROUP BY owner, channel ORDER BY owner, channel`,
      query_params: ownedIds(storedIds),
      format: 'JSONEachRow',
    }),
  );
  const states = new Map(
    [...storedIds.keys()].map((owner): [string, Partial<Record<SubscriptionChannel, SubscriptionState>>] => [
      owner,
      {},
    ]),
  );
  for (const row of await result.json<{ owner: string; channel: SubscriptionChannel; state: SubscriptionState }>()) {
    const owned = states.get(row.owner);
    if (owned) owned[row.channel] = row.state;
  }
  return states;
}
