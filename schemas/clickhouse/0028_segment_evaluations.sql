-- The latest full evaluation every segment's changes of which are stored: sizes and movements are dated by it, not by
-- the latest pass, whose segments may still be being diffed. One row; a later evaluation replaces it. Empty until the
-- first evaluation after this migration ends.
CREATE TABLE IF NOT EXISTS segment_evaluations
(
    pass         UInt64,
    finished_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(pass)
ORDER BY tuple();
