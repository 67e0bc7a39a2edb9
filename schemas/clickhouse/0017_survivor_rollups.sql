-- Every survivor profile's stats, and the latest values of the trait keys segment rules name, as an evaluation pass
-- last rolled them up. Rolling up every row of profile_stats and profile_traits costs seconds on 1M profiles, most of
-- a pass, while few survivors change between passes: a pass rolls up again only the survivors whose stored rows
-- changed since the previous pass read them, and everyone when it is a process's first, or it names a trait key the
-- previous pass did not. The newest roll-up of a survivor wins. A profile a merge absorbed keeps its last rows:
-- readers skip every loser id of profile_merges, since an absorbed profile never survives again.
--
-- `trait_values` holds the latest raw JSON value of each of `trait_keys` (the keys the rolling pass named), '' for a
-- key the survivor does not have; a pass reads its own keys out of them by name. Kept in the stats row, a pass's rows
-- need no second table grouped by survivor and joined.
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
    trait_keys          Array(String),
    trait_values        Array(String),
    pass                UInt64
)
ENGINE = ReplacingMergeTree(pass)
ORDER BY profile_id;

-- When (by ClickHouse's clock, as events.inserted_at and profile_merges.updated_at are stamped) the pass began
-- reading the rows it rolled up: the next pass rolls up again what was written after it.
ALTER TABLE segment_profile_passes ADD COLUMN IF NOT EXISTS rolled_up_at DateTime64(3, 'UTC') DEFAULT 0;

-- A pass's traits are folded into its profiles' rows: the latest raw JSON value of each key of the pass's trait_keys,
-- in that order, '' where the survivor has none. A rule tests them on the row instead of building a set per key.
ALTER TABLE segment_profiles ADD COLUMN IF NOT EXISTS trait_values Array(String);
DROP TABLE IF EXISTS segment_profile_traits;
