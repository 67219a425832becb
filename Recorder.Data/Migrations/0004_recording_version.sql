-- Which version of its recording a run replays (the recording source's own stamp: a folder's listing, an import's
-- rows): a run taken over by another instance must find the same version, or it would splice two recordings.
ALTER TABLE interactions ADD COLUMN recording_version text;
