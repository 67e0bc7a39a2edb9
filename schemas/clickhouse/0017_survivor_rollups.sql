-- Every survivor profile's stats, and the traits segment rules name, as an evaluation pass last rolled them up.
-- Rolling up every row of profile_stats and profile_traits costs seconds on 1M profiles, most of a pass, while few
-- survivors change between passes: a pass rolls up again only the survivors whose stored rows changed since the
-- previous pass read them, and the first pass of a process all of them. The newest roll-up of a survivor wins. A
-- profile a merge absorbed keeps its last rows: readers skip every loser id of profile_merges, since an absorbed
-- profile never survives again.
CREATE TABLE IF NOT EXISTS survivor_stats
(
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
    pass                UInt64
)
ENGINE = ReplacingMergeTree(pass)
ORDER BY profile_id;

-- The latest raw JSON value of the trait keys segment rules name, per survivor that has them; a key a pass names that
-- the previous one did not is rolled up for every survivor. A survivor never loses a trait, so its newest roll-up of
-- a key is its latest value.
CREATE TABLE IF NOT EXISTS survivor_traits
(
    key         String,
    profile_id  String,
    value       String,
    pass        UInt64
)
ENGINE = ReplacingMergeTree(pass)
ORDER BY (key, profile_id);

-- When (by ClickHouse's clock, as events.inserted_at and profile_merges.updated_at are stamped) the pass began
-- reading the rows it rolled up: the next pass rolls up again what was written after it.
ALTER TABLE segment_profile_passes ADD COLUMN IF NOT EXISTS rolled_up_at DateTime64(3, 'UTC') DEFAULT 0;

-- A pass's traits are folded into its profiles' rows: the latest raw JSON value of each key of the pass's trait_keys,
-- in that order, '' where the survivor has none. A rule tests them on the row instead of building a set per key.
ALTER TABLE segment_profiles ADD COLUMN IF NOT EXISTS trait_values Array(String);
DROP TABLE IF EXISTS segment_profile_traits;
