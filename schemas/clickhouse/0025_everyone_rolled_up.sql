-- When the roll-up of every survivor that a pass's kept roll-ups go back to was read: a process starting after a recent
-- one rolls up only what changed since, instead of everyone again.
ALTER TABLE segment_profile_passes ADD COLUMN IF NOT EXISTS everyone_rolled_up_at DateTime64(3, 'UTC') DEFAULT 0;
