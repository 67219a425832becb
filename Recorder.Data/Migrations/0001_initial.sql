-- Recorder schema: the original's tables with proper types, plus what delivery and scale-out need.

CREATE TABLE users (
    user_id      text PRIMARY KEY,
    email        text NOT NULL DEFAULT '',
    name         text NOT NULL DEFAULT '',
    token_hash   bytea NOT NULL,              -- SHA-256 of the token; the token itself is never stored
    available    boolean NOT NULL DEFAULT true,
    is_beta      boolean NOT NULL DEFAULT true,
    deleted      boolean NOT NULL DEFAULT false,
    corporation  text,
    industry     text,
    position     text,
    create_time  timestamptz NOT NULL DEFAULT now(),
    update_time  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE interactions (
    interaction_id    text PRIMARY KEY,
    user_id           text NOT NULL REFERENCES users (user_id),
    create_time       timestamptz NOT NULL DEFAULT now(),
    update_time       timestamptz NOT NULL DEFAULT now(),
    description       text NOT NULL DEFAULT '',
    agent             text NOT NULL DEFAULT '',
    mode              text NOT NULL DEFAULT '',
    recorder_root_dir text,
    file_list         jsonb NOT NULL DEFAULT '[]',
    status            text NOT NULL,
    message           text,
    current_step      text,
    is_deleted        boolean NOT NULL DEFAULT false,
    call_method       text NOT NULL DEFAULT '',
    -- the recording this interaction replays (recorder_dir as the client named it)
    recorder_dir      text,
    -- the last seq written for this interaction; raws take last_seq + 1 in the insert's transaction
    last_seq          bigint NOT NULL DEFAULT 0,
    -- the run: requested by StartRecorder, owned by one hub instance under a lease
    run_requested     boolean NOT NULL DEFAULT false,
    run_owner         text,
    run_lease_until   timestamptz,
    -- set when the last connection left, cleared when one attaches; drives the disconnect grace
    detached_since    timestamptz
);

CREATE INDEX interactions_user_active ON interactions (user_id) WHERE status IN ('waiting', 'running');
CREATE INDEX interactions_runs ON interactions (run_lease_until) WHERE run_requested AND status IN ('waiting', 'running');

CREATE TABLE raw (
    interaction_id     text NOT NULL REFERENCES interactions (interaction_id),
    seq                bigint NOT NULL,
    node_id            text NOT NULL,
    current            text,
    step               integer NOT NULL DEFAULT 0,
    data               jsonb,
    file_list          jsonb NOT NULL DEFAULT '[]',
    status             text NOT NULL,
    do_interrupt       boolean NOT NULL DEFAULT false,
    wait_seconds       integer NOT NULL DEFAULT 0,
    ask_for_human_help boolean NOT NULL DEFAULT false,
    create_time        timestamptz NOT NULL DEFAULT now(),
    update_time        timestamptz NOT NULL DEFAULT now(),
    is_deleted         boolean NOT NULL DEFAULT false,
    is_human           boolean NOT NULL DEFAULT false,
    human_data         jsonb,
    human_file_list    jsonb NOT NULL DEFAULT '[]',
    is_send            boolean NOT NULL DEFAULT false,
    is_receive         boolean NOT NULL DEFAULT false,
    include_pictures   boolean NOT NULL DEFAULT false,
    PRIMARY KEY (interaction_id, seq)
);

-- "unsent rows of an interaction in seq order"
CREATE INDEX raw_unsent ON raw (interaction_id, seq) WHERE NOT is_send AND NOT is_deleted;

-- Wake the pushers: one notification per interaction per transaction (PostgreSQL folds duplicates).
CREATE FUNCTION raw_notify_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('raw_inserted', NEW.interaction_id);
    RETURN NULL;
END;
$$;

CREATE TRIGGER raw_inserted AFTER INSERT ON raw
    FOR EACH ROW EXECUTE FUNCTION raw_notify_inserted();

CREATE TABLE running_record (
    id          bigserial PRIMARY KEY,
    record_id   text NOT NULL,
    current     text,
    node_id     text,
    node_type   text NOT NULL,
    data        jsonb,
    create_time timestamptz NOT NULL DEFAULT now(),
    update_time timestamptz NOT NULL DEFAULT now(),
    is_deleted  boolean NOT NULL DEFAULT false
);

CREATE INDEX running_record_record ON running_record (record_id, id) WHERE NOT is_deleted;

-- The files of an interaction's workspace, shared by every hub instance.
CREATE TABLE workspace_files (
    interaction_id text NOT NULL REFERENCES interactions (interaction_id),
    name           text NOT NULL,
    content        bytea NOT NULL,
    create_time    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (interaction_id, name)
);

-- Live hub connections, so that "the last connection of an interaction left" holds across instances.
CREATE TABLE hub_instances (
    instance_id  text PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hub_connections (
    connection_id  text NOT NULL,
    interaction_id text NOT NULL REFERENCES interactions (interaction_id),
    instance_id    text NOT NULL,
    connected_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, interaction_id)
);

CREATE INDEX hub_connections_interaction ON hub_connections (interaction_id);

-- Workspace files of recordings imported into running_record (XAgent's DB format has no place for them).
CREATE TABLE recording_files (
    record_id   text NOT NULL,
    name        text NOT NULL,
    content     bytea NOT NULL,
    create_time timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (record_id, name)
);
