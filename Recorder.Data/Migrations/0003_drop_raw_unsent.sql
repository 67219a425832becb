-- Delivery reads raws by (interaction_id, seq) through the primary key and marks is_send by seq range: nothing reads
-- the partial index of unsent raws any more, and keeping it made every is_send mark update a second index.
DROP INDEX IF EXISTS raw_unsent;
