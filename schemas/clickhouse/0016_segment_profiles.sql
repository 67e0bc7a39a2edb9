-- One row per survivor profile per evaluation pass: its stats rolled up once, RFM scores, and how many events each
-- behaviour condition of the rules defined when the pass began counts (in segment_profile_passes.behaviours order).
-- Rules are filters on it, so a pass pays for the roll-ups and one read of the events once instead of once per
-- segment. A pass is readable once its row in segment_profile_passes exists; older passes are dropped by partition,
-- the previous one kept for its readers.
CREATE TABLE IF NOT EXISTS segment_profiles
(
    pass                UInt64,
    profile_id          String,
    stat_events         UInt64,
    stat_first_seen     DateTime64(3, 'UTC'),
    stat_last_seen      DateTime64(3, 'UTC'),
    stat_orders         UInt64,
    stat_revenue        Float64,
    stat_last_order_at  Nullable(DateTime64(3, 'UTC')),
    stat_channels       Array(String),
    stat_latest_nps     Nullable(Float64),
    stat_latest_csat    Nullable(Float64),
    stat_open_tickets   UInt64,
    stat_rfm_recency    Nullable(UInt64),
    stat_rfm_frequency  Nullable(UInt64),
    stat_rfm_monetary   Nullable(UInt64),
    behaviour_counts    Array(UInt64)
)
ENGINE = MergeTree
PARTITION BY pass
ORDER BY profile_id;

-- The latest raw JSON value of every trait those rules name, per survivor and pass: a trait condition reads its key's
-- range. A survivor without the trait has no row.
CREATE TABLE IF NOT EXISTS segment_profile_traits
(
    pass        UInt64,
    key         String,
    profile_id  String,
    value       String
)
ENGINE = MergeTree
PARTITION BY pass
ORDER BY (key, profile_id);

-- The latest complete pass of segment_profiles (the highest pass wins), which trait keys segment_profile_traits and
-- which behaviours (a JSON key each) `behaviour_counts` hold.
CREATE TABLE IF NOT EXISTS segment_profile_passes
(
    pass        UInt64,
    trait_keys  Array(String),
    behaviours  Array(String)
)
ENGINE = ReplacingMergeTree(pass)
ORDER BY tuple();

-- One segment's membership changes of one pass, computed in ClickHouse and kept until they are published and stored.
CREATE TABLE IF NOT EXISTS segment_diffs
(
    pass        UInt64,
    segment_id  String,
    profile_id  String,
    is_member   UInt8,
    entered_at  DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY pass
ORDER BY (segment_id, profile_id);
