-- Identity projections carry the link-log version they were computed at, so a resolver that has applied more of
-- the log always wins over one that is behind, whichever writes last.
DROP VIEW IF EXISTS resolved_events;
DROP TABLE IF EXISTS profile_merges;
DROP TABLE IF EXISTS identities;

-- Which profile each identifier (user_id, anonymous_id, email, phone) was linked to; resolve it through profile_merges.
CREATE TABLE identities
(
    type        LowCardinality(String),
    value       String,
    profile_id  String,
    version     UInt64,
    updated_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (type, value);

-- Absorbed profile id → its final survivor (chains collapsed: every loser points at the profile that absorbed all).
CREATE TABLE profile_merges
(
    loser_id     String,
    survivor_id  String,
    version      UInt64,
    updated_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY loser_id;

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
