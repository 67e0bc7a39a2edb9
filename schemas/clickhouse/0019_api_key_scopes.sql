-- What each key may do, and until when. A row written before scopes existed has none: its kind stands for them
-- (`write` → write; `read` → analytics, profiles, audiences), so existing read keys keep their reads and no writes.
ALTER TABLE api_keys
    ADD COLUMN IF NOT EXISTS scopes Array(LowCardinality(String)) DEFAULT [] AFTER kind,
    ADD COLUMN IF NOT EXISTS expires_at Nullable(DateTime64(3, 'UTC')) AFTER created_at;
