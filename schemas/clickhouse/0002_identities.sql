-- Which profile each identifier (user_id, anonymous_id, email, phone) resolves to.
CREATE TABLE IF NOT EXISTS identities
(
    type        LowCardinality(String),
    value       String,
    profile_id  String,
    updated_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (type, value);
