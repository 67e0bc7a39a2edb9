-- Current membership of every segment, one row per (segment, profile) once merged; profile ids are survivors.
-- A profile is a member while its latest row has is_member = 1; entered_at is when its current stay began.
CREATE TABLE IF NOT EXISTS segment_membership
(
    segment_id   String,
    profile_id   String,
    is_member    UInt8,
    entered_at   DateTime64(3, 'UTC'),
    changed_at   DateTime64(3, 'UTC'),
    version      UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (segment_id, profile_id);
