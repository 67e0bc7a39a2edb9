-- Destinations (webhooks) and their triggers: one row per destination once merged, the highest version winning; a
-- deleted destination keeps a row with deleted = 1. The signing secret is stored encrypted (AES-256-GCM).
CREATE TABLE IF NOT EXISTS destinations
(
    id                String,
    name              String,
    kind              LowCardinality(String),
    url               String,
    headers           String,
    secret_encrypted  String,
    template          String,
    traits            String,
    batch             UInt16,
    rate_per_second   Float64,
    status            LowCardinality(String),
    triggers          String,
    deleted           UInt8 DEFAULT 0,
    created_at        DateTime64(3, 'UTC'),
    updated_at        DateTime64(3, 'UTC'),
    version           UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;

-- Every delivery a trigger made, one row per delivery once merged: the trigger's consumer writes it pending with
-- version 1 before committing its offsets, and each attempt writes a higher version (so a replayed trigger record
-- never turns a delivered row back to pending). `body` is empty until the first attempt renders it; every retry
-- sends the same body with the same delivery id.
CREATE TABLE IF NOT EXISTS destination_deliveries
(
    delivery_id      String,
    destination_id   String,
    profile_id       String,
    trigger          String,
    body             String,
    status           LowCardinality(String),
    attempts         UInt32,
    next_attempt_at  DateTime64(3, 'UTC'),
    created_at       DateTime64(3, 'UTC'),
    updated_at       DateTime64(3, 'UTC'),
    last_status      UInt16,
    last_error       String,
    latency_ms       UInt32,
    version          UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (destination_id, delivery_id)
TTL toDateTime(created_at) + INTERVAL 30 DAY;
