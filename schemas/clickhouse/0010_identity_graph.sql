-- Identity projections carry the link-log version they were computed at, so a resolver that has applied more of
-- the log always wins over one that is behind, whichever writes last.
--
-- Each table is rebuilt beside the live one and exchanged with it, so running this again (after a crash half-way)
-- keeps every row the resolver wrote: those carry a graph version of 1 or more. Rows of the shape before (0002, 0004)
-- read version 0 and stay behind, as they always did here; the link log computes them again. The text before this
-- one dropped both tables and created them anew, which ends in the same tables:
-- earlier checksum: 149b599178960710e73ee112bf962fb7b1e6519a0a9318ef18e79d0df1bb9608
DROP VIEW IF EXISTS resolved_events;
ALTER TABLE identities ADD COLUMN IF NOT EXISTS version UInt64;
ALTER TABLE profile_merges ADD COLUMN IF NOT EXISTS version UInt64;

-- Which profile each identifier (user_id, anonymous_id, email, phone) was linked to; resolve it through profile_merges.
-- A rebuild table left by a crash holds nothing the live table lacks: it starts empty.
DROP TABLE IF EXISTS identities_0010;
CREATE TABLE identities_0010
(
    type        LowCardinality(String),
    value       String,
    profile_id  String,
    version     UInt64,
    updated_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (type, value);
INSERT INTO identities_0010 (type, value, profile_id, version, updated_at)
SELECT type, value, profile_id, version, updated_at FROM identities WHERE version > 0;
EXCHANGE TABLES identities AND identities_0010;
DROP TABLE identities_0010;

-- Absorbed profile id → its final survivor (chains collapsed: every loser points at the profile that absorbed all).
DROP TABLE IF EXISTS profile_merges_0010;
CREATE TABLE profile_merges_0010
(
    loser_id     String,
    survivor_id  String,
    version      UInt64,
    updated_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY loser_id;
INSERT INTO profile_merges_0010 (loser_id, survivor_id, version, updated_at)
SELECT loser_id, survivor_id, version, updated_at FROM profile_merges WHERE version > 0;
EXCHANGE TABLES profile_merges AND profile_merges_0010;
DROP TABLE profile_merges_0010;

-- Links that merge protection refused: they would have put two different userIds in one profile.
CREATE TABLE IF NOT EXISTS identity_refusals
(
    message_id   String,
    identifiers  Array(String),
    reason       String,
    refused_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(refused_at)
ORDER BY message_id;

-- Every accepted message once (a retried messageId collapses to its first copy), on its survivor profile:
-- events stored before a merge count for the profile that absorbed theirs. Analytics and segments read this.
CREATE VIEW resolved_events AS
SELECT
    e.* EXCEPT (profile_id),
    e.profile_id AS stored_profile_id,
    if(m.survivor_id = '', e.profile_id, m.survivor_id) AS profile_id
FROM (SELECT * FROM events ORDER BY inserted_at LIMIT 1 BY message_id) AS e
LEFT JOIN (SELECT loser_id, survivor_id FROM profile_merges FINAL) AS m ON e.profile_id = m.loser_id;
