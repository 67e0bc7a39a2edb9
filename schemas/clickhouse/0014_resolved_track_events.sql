-- resolved_events for the named track events only, e.g. resolved_track_events(events = ['Order Completed']).
-- A retry repeats its message, so every copy of a messageId is the same event: deduplicating among the named
-- events alone keeps exactly the messages resolved_events has of them, without sorting every other message
-- first. Analytics read orders and ticket updates through it, a small share of all messages.
CREATE VIEW IF NOT EXISTS resolved_track_events AS
SELECT
    e.* EXCEPT (profile_id),
    e.profile_id AS stored_profile_id,
    if(m.survivor_id = '', e.profile_id, m.survivor_id) AS profile_id
FROM (
    SELECT * FROM events
    WHERE type = 'track' AND has({events:Array(String)}, event)
    ORDER BY inserted_at
    LIMIT 1 BY message_id
) AS e
LEFT JOIN (SELECT loser_id, survivor_id FROM profile_merges FINAL) AS m ON e.profile_id = m.loser_id;
