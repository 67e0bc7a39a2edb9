-- profile_firsts holds one row per stored profile per part, and the analytics group them by profile (new customers,
-- first-seen retention, lifecycle). Left to ClickHouse's usual choice of merges, parts of similar size are kept side by
-- side for good: a store of 1M profiles, quiet for hours, still held 3.5M rows in five parts, and grouping them took
-- about twice as long as grouping one row per profile. Parts older than ten minutes are merged into one whatever their
-- sizes, so the table holds one row per profile for all but its last minutes of writes. Each such merge rewrites the
-- table once (1M profiles: about 2 s of a core). profile_stats and profile_traits are left to the usual merges: forced
-- the same way, their rewrites (5 s and more for profile_stats, and its memory) cost a 30-minute run at half capacity
-- its memory and lag verdicts, while the segments' roll-ups that read them gained about 0.8 s.
ALTER TABLE profile_firsts MODIFY SETTING min_age_to_force_merge_seconds = 600;
