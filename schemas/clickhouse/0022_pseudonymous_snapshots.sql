-- The identity graph holds pseudonyms of identifiers (keyed hashes), never the identifiers. Snapshots taken before
-- hold plaintext, so they go: each resolver replays the link log once, turning plaintext records into pseudonyms.
-- profile_id is set only for a node first named by a plaintext record: the id its plaintext gave its profile, which
-- its pseudonym cannot give again.
ALTER TABLE identity_snapshot_nodes ADD COLUMN IF NOT EXISTS profile_id String DEFAULT '';
TRUNCATE TABLE IF EXISTS identity_snapshots;
TRUNCATE TABLE IF EXISTS identity_snapshot_nodes;
