-- The resolved_events view (each message once on its survivor) is gone: the profile read model (services/profiles)
-- is the one place the survivor map is written, and its messagesPerSurvivor reads the same rows.
DROP VIEW IF EXISTS resolved_events;
