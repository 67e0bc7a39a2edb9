-- Per stored profile and channel (email, sms, zalo, push), the latest subscription state its events stated:
-- identify `traits.subscriptions.<channel>` (true / false, or "subscribed" / "unsubscribed"), and track
-- `Subscribed` / `Unsubscribed` with `properties.channel`. Latest by event time, then messageId; a survivor merges
-- the states of every profile it absorbed, as profile_traits does.
CREATE TABLE IF NOT EXISTS profile_subscriptions
(
    profile_id  String,
    channel     LowCardinality(String),
    state       AggregateFunction(argMax, String, Tuple(DateTime64(3, 'UTC'), String))
)
ENGINE = AggregatingMergeTree
ORDER BY (profile_id, channel);

CREATE MATERIALIZED VIEW IF NOT EXISTS profile_subscriptions_mv TO profile_subscriptions AS
SELECT profile_id, change.1 AS channel, argMaxState(change.2, (timestamp, message_id)) AS state
FROM events
ARRAY JOIN arrayConcat(
    if(type = 'identify',
       arrayMap((pair) -> (lower(pair.1), multiIf(pair.2 IN ('true', '"subscribed"'), 'subscribed', pair.2 IN ('false', '"unsubscribed"'), 'unsubscribed', '')),
                JSONExtractKeysAndValuesRaw(traits, 'subscriptions')),
       []),
    if(type = 'track' AND event IN ('Subscribed', 'Unsubscribed'),
       [(lower(JSONExtractString(properties, 'channel')), if(event = 'Subscribed', 'subscribed', 'unsubscribed'))],
       [])) AS change
WHERE change.1 IN ('email', 'sms', 'zalo', 'push') AND change.2 != ''
GROUP BY profile_id, channel;

INSERT INTO profile_subscriptions
SELECT profile_id, change.1 AS channel, argMaxState(change.2, (timestamp, message_id)) AS state
FROM events
ARRAY JOIN arrayConcat(
    if(type = 'identify',
       arrayMap((pair) -> (lower(pair.1), multiIf(pair.2 IN ('true', '"subscribed"'), 'subscribed', pair.2 IN ('false', '"unsubscribed"'), 'unsubscribed', '')),
                JSONExtractKeysAndValuesRaw(traits, 'subscriptions')),
       []),
    if(type = 'track' AND event IN ('Subscribed', 'Unsubscribed'),
       [(lower(JSONExtractString(properties, 'channel')), if(event = 'Subscribed', 'subscribed', 'unsubscribed'))],
       [])) AS change
WHERE change.1 IN ('email', 'sms', 'zalo', 'push') AND change.2 != ''
GROUP BY profile_id, channel;
