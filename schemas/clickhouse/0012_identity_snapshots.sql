-- Snapshots of the resolver's identity graph, so an instance restores it and replays only the link log after it.
-- One row per identifier: its component's root is the member with the smallest seq (the older profile). Instances
-- that snapshot the same version write the same rows, which collapse.
CREATE TABLE IF NOT EXISTS identity_snapshot_nodes
(
    version   UInt64,
    seq       UInt64,
    type      LowCardinality(String),
    value     String,
    root_seq  UInt64
)
ENGINE = ReplacingMergeTree
ORDER BY (version, seq);

-- Written only after every node row of its version, so a snapshot without a header was never finished;
-- next_offset is where the link log continues after the records the snapshot holds.
CREATE TABLE IF NOT EXISTS identity_snapshots
(
    version      UInt64,
    next_offset  String,
    seq          UInt64,
    nodes        UInt64,
    created_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY version;
