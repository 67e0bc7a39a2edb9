-- Every accepted message, one row per messageId once merged (retries collapse).
CREATE TABLE IF NOT EXISTS events
(
    message_id   String,
    profile_id   String,
    type         LowCardinality(String),
    event        String,
    name         String,
    user_id      String,
    anonymous_id String,
    group_id     String,
    previous_id  String,
    timestamp    DateTime64(3, 'UTC'),
    original_timestamp Nullable(DateTime64(3, 'UTC')),
    sent_at      Nullable(DateTime64(3, 'UTC')),
    received_at  DateTime64(3, 'UTC'),
    channel      LowCardinality(String),
    source       LowCardinality(String),
    properties   String,
    traits       String,
    context      String,
    inserted_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY (profile_id, message_id);
