// Each profile's latest subscription state per channel (profile_subscriptions, migration 0021), rolled up to survivors.
import { named, type ClickHouseClient } from '@cdp/runtime';
import { joinSurvivors, survivorOf } from './survivors';

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

/** The latest state of each channel of one survivor, from its stored ids (`storedIdsOf`); a channel never stated is absent. */
export async function subscriptionsOf(
  client: ClickHouseClient,
  storedIds: string[],
): Promise<Partial<Record<SubscriptionChannel, SubscriptionState>>> {
  const result = await client.query(
    named('profiles.readSubscriptions', {
      query: `SELECT channel, argMaxMerge(state) AS state FROM profile_subscriptions
      WHERE profile_id IN {storedIds:Array(String)} GROUP BY channel ORDER BY channel`,
      query_params: { storedIds },
      format: 'JSONEachRow',
    }),
  );
  const rows = await result.json<{ channel: SubscriptionChannel; state: SubscriptionState }>();
  return Object.fromEntries(rows.map((row) => [row.channel, row.state]));
}
