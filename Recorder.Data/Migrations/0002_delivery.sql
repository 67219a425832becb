-- Delivery as catch-up subscriptions: raws are written in group commits (many raws of many interactions per
-- statement) and every such statement sends one notification naming the interactions and the last seq it
-- committed of each, instead of one notification per row.

DROP TRIGGER raw_inserted ON raw;
DROP FUNCTION raw_notify_inserted();

-- Payload: "interaction_id:last_seq,interaction_id:last_seq,..." (interaction ids hold no ':' or ','); split into
-- chunks of 80 interactions so that one payload stays below PostgreSQL's 8000-byte limit.
CREATE FUNCTION raw_notify_committed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payload text;
BEGIN
    FOR payload IN
        SELECT string_agg(t.interaction_id || ':' || t.last_seq, ',' ORDER BY t.interaction_id)
        FROM (SELECT interaction_id, max(seq) AS last_seq,
                     (row_number() OVER (ORDER BY interaction_id) - 1) / 80 AS chunk
              FROM inserted GROUP BY interaction_id) t
        GROUP BY t.chunk
    LOOP
        PERFORM pg_notify('raw_committed', payload);
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE TRIGGER raw_committed AFTER INSERT ON raw
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION raw_notify_committed();

-- The abandoned-interaction reaper looks only at interactions that have no connection.
CREATE INDEX interactions_detached ON interactions (detached_since)
    WHERE detached_since IS NOT NULL AND status IN ('waiting', 'running');
