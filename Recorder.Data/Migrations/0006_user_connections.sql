-- Connect counts the user's attached connections and live interactions (Recorder:Auth:ConnectionsPerUser,
-- LiveInteractionsPerUser) under the per-user lock: the user's interactions are found by this index.
CREATE INDEX IF NOT EXISTS interactions_user ON interactions (user_id);
