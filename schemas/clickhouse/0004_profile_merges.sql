-- Merged profiles: each absorbed (loser) profile id points at its final survivor; chains are collapsed on write.
CREATE TABLE IF NOT EXISTS profile_merges
(
    loser_id     String,
    survivor_id  String,
    merged_at    DateTime64(3, 'UTC'),
    updated_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY loser_id;

-- Every accepted message once (a retried messageId collapses to its first copy), on its survivor profile:
-- events stored before a merge count for the profile that absorbed theirs. Analytics and segments read this.
CREATE VIEW IF NOT EXISTS resolved_events AS
SELECT
    e.* EXCEPT (profile_id),
    e.profile_id AS stored_profile_id,
    if(m.survivor_id = '', e.profile_id, m.survivor_id) AS profile_id
FROM (SELECT * FROM events ORDER BY inserted_at LIMIT 1 BY message_id) AS e
LEFT JOIN (SELECT loser_id, survivor_id FROM profile_merges FINAL) AS m ON e.profile_id = m.loser_id;
