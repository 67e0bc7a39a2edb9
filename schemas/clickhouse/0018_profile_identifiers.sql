-- Every (profile, identifier) pair ever written to identities, keyed by profile id: an audience page reads the
-- identifiers of its members through the primary key instead of scanning identities (keyed by identifier) FINAL.
--
-- A row is never replaced when an identifier moves, so a profile keeps its pairs after being absorbed. Read through
-- profile_merges to the survivor and deduplicated per survivor, the pairs are exactly those of identities FINAL: the
-- resolver's graph never splits a profile, and an identifier only ever moves from a profile to the profile that
-- absorbs it. An older pair (absorbed profile, identifier) therefore maps through profile_merges (chains collapsed
-- to the final survivor) to the same survivor as the identifier's current pair. Only for the moment between a batch's
-- identities and its profile_merges rows can an absorbed profile that is still listed somewhere show the identifier
-- too.
CREATE TABLE IF NOT EXISTS profile_identifiers
(
    profile_id  String,
    type        LowCardinality(String),
    value       String
)
ENGINE = ReplacingMergeTree
ORDER BY (profile_id, type, value);

CREATE MATERIALIZED VIEW IF NOT EXISTS profile_identifiers_mv TO profile_identifiers AS
SELECT profile_id, type, value FROM identities;

-- Identifiers stored before the view existed; one inserted in between arrives twice and collapses.
INSERT INTO profile_identifiers SELECT profile_id, type, value FROM identities;
