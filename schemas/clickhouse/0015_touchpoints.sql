-- What the analytics read instead of every stored message, both kept by materialized views on each insert into events.
--
-- touchpoints: one narrow row per message, in time order within its kind, with the few facts the metrics need read
-- out of its JSON once. A window of time is a range of the primary key, and a kind (orders, survey scores, tickets)
-- is a small contiguous part of the table. A retry dated like its first copy is stored again under the same key and
-- collapses when parts merge; one dated later (ingest dates a message by its arrival minus sentAt − timestamp) is
-- another row. Readers that count messages take each message_id once, at its earliest copy's time.
CREATE TABLE IF NOT EXISTS touchpoints
(
    -- order | nps | csat (a survey response with a numeric score) | ticket_opened | ticket_replied | ticket_resolved
    -- | message (anything else)
    kind        LowCardinality(String),
    timestamp   DateTime64(3, 'UTC'),
    message_id  String,
    profile_id  String,
    channel     LowCardinality(String),
    revenue     Float64,
    score       Float64,
    ticket_id   String,
    complaint   UInt8
)
ENGINE = ReplacingMergeTree
ORDER BY (kind, timestamp, message_id);

-- The amounts are read as the profile stats read them (0011_profile_stats.sql).
CREATE MATERIALIZED VIEW IF NOT EXISTS touchpoints_mv TO touchpoints AS
SELECT
    kind,
    timestamp,
    message_id,
    profile_id,
    channel,
    if(kind = 'order', coalesce(JSONExtract(properties, 'revenue', 'Nullable(Float64)'), JSONExtract(properties, 'total', 'Nullable(Float64)'), 0), 0) AS revenue,
    if(kind IN ('nps', 'csat'), JSONExtractFloat(properties, 'score'), 0) AS score,
    if(startsWith(kind, 'ticket_'), JSONExtractString(properties, 'ticket_id'), '') AS ticket_id,
    kind = 'ticket_opened' AND JSONExtractString(properties, 'type') = 'complaint' AS complaint
FROM
(
    SELECT
        *,
        multiIf(
            type != 'track', 'message',
            event = 'Order Completed', 'order',
            event = 'Survey Responded' AND JSONExtractString(properties, 'survey') IN ('nps', 'csat')
                AND JSONType(properties, 'score') IN ('Int64', 'UInt64', 'Double'), JSONExtractString(properties, 'survey'),
            event = 'Ticket Opened', 'ticket_opened',
            event = 'Ticket Replied', 'ticket_replied',
            event = 'Ticket Resolved', 'ticket_resolved',
            'message') AS kind
    FROM events
);

-- profile_firsts: per stored profile id, its first message on any channel and on each channel ingest assigns (the
-- analytics channels: properties.channel, else the SDK's, else unknown). Reads take the minimum over a survivor and
-- every profile it absorbed. A duplicate cannot move a minimum.
CREATE TABLE IF NOT EXISTS profile_firsts
(
    profile_id    String,
    first_seen    SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    first_web     SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    first_app     SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    first_email   SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    first_sms     SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    first_phone   SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    first_social  SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    first_chat    SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    first_store   SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    first_unknown SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC')))
)
ENGINE = AggregatingMergeTree
ORDER BY profile_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS profile_firsts_mv TO profile_firsts AS
SELECT
    profile_id,
    min(timestamp) AS first_seen,
    min(if(channel = 'web', timestamp, NULL)) AS first_web,
    min(if(channel = 'app', timestamp, NULL)) AS first_app,
    min(if(channel = 'email', timestamp, NULL)) AS first_email,
    min(if(channel = 'sms', timestamp, NULL)) AS first_sms,
    min(if(channel = 'phone', timestamp, NULL)) AS first_phone,
    min(if(channel = 'social', timestamp, NULL)) AS first_social,
    min(if(channel = 'chat', timestamp, NULL)) AS first_chat,
    min(if(channel = 'store', timestamp, NULL)) AS first_store,
    min(if(channel = 'unknown', timestamp, NULL)) AS first_unknown
FROM events
GROUP BY profile_id;

-- Events stored before these views existed: inserting them again runs them through every view on events; the copies
-- collapse in events (same key, same row) and change no state, as 0011_profile_stats.sql explains.
INSERT INTO events SELECT * FROM events;

-- The analytics read purchases and ticket updates from touchpoints now; nothing reads this view any more.
DROP VIEW IF EXISTS resolved_track_events;
