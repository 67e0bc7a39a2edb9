-- Secrets of this installation, made on first use: `identifier_salt` keys the hashes suppressions are stored as.
-- Two processes that make one at once both read back the earliest, so every process hashes with the same salt.
CREATE TABLE IF NOT EXISTS install_secrets
(
    name        String,
    value       String,
    created_at  DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (name, created_at);

-- Identifiers whose events are dropped before they reach a profile, stored as HMAC-SHA256(salt, type NUL value)
-- in hex: never the identifier itself. A lifted suppression keeps its row with active = 0.
CREATE TABLE IF NOT EXISTS suppressions
(
    identifier_hash  String,
    type             LowCardinality(String),
    reason           LowCardinality(String),
    erasure_id       String,
    active           UInt8,
    created_at       DateTime64(3, 'UTC'),
    updated_at       DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY identifier_hash;

-- Erasures and suppressions: who (the key's prefix), when, what state, how many rows; no personal data.
CREATE TABLE IF NOT EXISTS privacy_audit
(
    id           String,
    action       LowCardinality(String),
    key_prefix   String,
    state        LowCardinality(String),
    counts       Map(String, UInt64),
    error        String,
    created_at   DateTime64(3, 'UTC'),
    updated_at   DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY id;
