-- Per-profile stats and latest traits, kept by materialized views on every insert into events.
-- Rows are per stored profile id; reads merge the states of a survivor and the profiles it absorbed.
-- Every state is exact however often a messageId is inserted (client retries, replays after a crash):
-- counts are sets of message ids, order revenue is a set of (messageId, revenue) pairs, the rest are
-- min / max / latest-by-time values, which a duplicate cannot change.

CREATE TABLE IF NOT EXISTS profile_stats
(
    profile_id        String,
    messages          AggregateFunction(uniqExact, String),
    first_seen        SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen         SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    orders            SimpleAggregateFunction(groupUniqArrayArray, Array(Tuple(String, Float64))),
    last_order_at     SimpleAggregateFunction(max, Nullable(DateTime64(3, 'UTC'))),
    channels          SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    latest_nps        AggregateFunction(argMax, Nullable(Float64), Nullable(DateTime64(3, 'UTC'))),
    latest_csat       AggregateFunction(argMax, Nullable(Float64), Nullable(DateTime64(3, 'UTC'))),
    tickets_opened    SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    tickets_resolved  SimpleAggregateFunction(groupUniqArrayArray, Array(String))
)
ENGINE = AggregatingMergeTree
ORDER BY profile_id;

-- A ticket opened without a ticket_id is its own ticket (keyed by its messageId) and can never be resolved.
CREATE MATERIALIZED VIEW IF NOT EXISTS profile_stats_mv TO profile_stats AS
SELECT
    profile_id,
    uniqExactState(message_id) AS messages,
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen,
    groupUniqArrayArray(if(is_order, [(message_id, revenue)], [])) AS orders,
    max(if(is_order, timestamp, NULL)) AS last_order_at,
    groupUniqArray(CAST(channel, 'String')) AS channels,
    argMaxState(if(survey = 'nps', score, NULL), if(survey = 'nps', timestamp, NULL)) AS latest_nps,
    argMaxState(if(survey = 'csat', score, NULL), if(survey = 'csat', timestamp, NULL)) AS latest_csat,
    groupUniqArrayArray(if(event = 'Ticket Opened', [if(ticket_id = '', message_id, ticket_id)], [])) AS tickets_opened,
    groupUniqArrayArray(if(event = 'Ticket Resolved' AND ticket_id != '', [ticket_id], [])) AS tickets_resolved
FROM
(
    SELECT
        profile_id,
        message_id,
        timestamp,
        channel,
        event,
        type = 'track' AND event = 'Order Completed' AS is_order,
        coalesce(JSONExtract(properties, 'revenue', 'Nullable(Float64)'), JSONExtract(properties, 'total', 'Nullable(Float64)'), 0) AS revenue,
        JSONExtract(properties, 'score', 'Nullable(Float64)') AS score,
        -- A response without a numeric score says nothing about satisfaction: it is not the latest score.
        if(event = 'Survey Responded' AND score IS NOT NULL, JSONExtractString(properties, 'survey'), '') AS survey,
        JSONExtractString(properties, 'ticket_id') AS ticket_id
    FROM events
)
GROUP BY profile_id;

-- The latest value of every trait: identify's `traits` and any event's `context.traits`, later events winning,
-- and within one identify its own traits over its context's (as Segment merges them).
CREATE TABLE IF NOT EXISTS profile_traits
(
    profile_id  String,
    key         String,
    value       AggregateFunction(argMax, String, Tuple(DateTime64(3, 'UTC'), DateTime64(3, 'UTC'), UInt8))
)
ENGINE = AggregatingMergeTree
ORDER BY (profile_id, key);

CREATE MATERIALIZED VIEW IF NOT EXISTS profile_traits_mv TO profile_traits AS
SELECT
    profile_id,
    trait.1 AS key,
    argMaxState(trait.2, (timestamp, received_at, trait.3)) AS value
FROM events
ARRAY JOIN arrayConcat(
    arrayMap(kv -> (kv.1, kv.2, toUInt8(0)), JSONExtractKeysAndValuesRaw(JSONExtractRaw(context, 'traits'))),
    if(type = 'identify', arrayMap(kv -> (kv.1, kv.2, toUInt8(1)), JSONExtractKeysAndValuesRaw(traits)), [])
) AS trait
GROUP BY profile_id, key;

-- Events stored before these views existed: inserting them again runs them through both views; the copies
-- collapse in events (same key, same row) and change no state, since every state ignores a repeated messageId.
INSERT INTO events SELECT * FROM events;
