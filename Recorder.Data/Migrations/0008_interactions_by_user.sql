-- GET /api/interactions pages a user's interactions newest first by keyset ((create_time, interaction_id) below the
-- cursor): read from this index in order, a page costs its own rows whatever the user's count, without a sort. Its
-- columns never change once a row exists (is_deleted hardly ever), so the hot updates of an interaction (last_seq,
-- update_time with every group commit) stay HOT.
CREATE INDEX IF NOT EXISTS interactions_user_created ON interactions (user_id, create_time DESC, interaction_id DESC) WHERE NOT is_deleted;
