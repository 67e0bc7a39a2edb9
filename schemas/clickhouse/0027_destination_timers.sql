-- Durable timers of destinations, one row per timer once merged, the highest version winning:
--  follow_up    a follow-up or SLA trigger's event, due `after` it; pending, then fired or cancelled;
--  anniversary  a date trait's anniversary coming within `daysBefore` days, one per profile, rule and year;
--  awaited      an event some follow-up waits for (its `unless`), kept so a timer due later can be cancelled by it.
-- The trigger consumer writes follow_up and awaited rows before committing its offsets; the poller reads due timers
-- in pages by (due_at, timer_id) and writes each fired or cancelled under a higher version. `identifiers` are the
-- event's `type:value` identifiers, resolved to a profile when the timer is due.
CREATE TABLE IF NOT EXISTS destination_timers
(
    kind            LowCardinality(String),
    timer_id        String,
    destination_id  String,
    rule            String,
    profile_id      String,
    identifiers     Array(String),
    match_value     String,
    trigger         String,
    started_at      DateTime64(3, 'UTC'),
    due_at          DateTime64(3, 'UTC'),
    status          LowCardinality(String),
    reason          String,
    version         UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (kind, due_at, timer_id)
TTL toDateTime(due_at) + INTERVAL 400 DAY;
