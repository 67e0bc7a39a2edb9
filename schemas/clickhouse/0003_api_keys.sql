-- Write and read keys of named sources, stored as SHA-256 hashes; a revoked key keeps its row.
CREATE TABLE IF NOT EXISTS api_keys
(
    key_hash    String,
    kind        LowCardinality(String),
    source      String,
    key_prefix  String,
    created_at  DateTime64(3, 'UTC'),
    revoked     UInt8 DEFAULT 0,
    updated_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY key_hash;
