-- Segment definitions: one row per segment once merged, the highest version winning; a deleted segment keeps a row
-- with deleted = 1, so every instance sees the deletion whichever order the rows arrive in.
CREATE TABLE IF NOT EXISTS segments
(
    id          String,
    name        String,
    kind        LowCardinality(String),
    rule        String,
    deleted     UInt8 DEFAULT 0,
    created_at  DateTime64(3, 'UTC'),
    updated_at  DateTime64(3, 'UTC'),
    version     UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;
