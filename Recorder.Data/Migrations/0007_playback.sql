-- Playback control (issue 11): the speed the viewer chose (null on interactions older than this migration: the
-- server's Recorder:Replay:Speed applies), whether the run is paused, and a version bumped by every change so that
-- the instance running the replay and every delivery apply each change once and in order.
ALTER TABLE interactions
    ADD COLUMN IF NOT EXISTS replay_speed double precision,
    ADD COLUMN IF NOT EXISTS paused boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS control_version bigint NOT NULL DEFAULT 0;
