-- Workspace files stored once per distinct content: every replay of a recording used to copy its whole workspace
-- into workspace_files. The bytes now live in workspace_contents, keyed by their SHA-256, and workspace_files names
-- them by hash. Contents no longer named by any file are deleted by `interactions prune` (and the retention service).

CREATE TABLE workspace_contents (
    content_hash bytea PRIMARY KEY,           -- SHA-256 of content
    content      bytea NOT NULL,
    size         bigint NOT NULL,             -- octet_length(content), so that a prune can count bytes without reading them
    create_time  timestamptz NOT NULL DEFAULT now()
);

-- Convert the rows of existing databases: each distinct content once (ON CONFLICT DO NOTHING folds duplicates).
ALTER TABLE workspace_files ADD COLUMN content_hash bytea;
UPDATE workspace_files SET content_hash = sha256(content);
INSERT INTO workspace_contents (content_hash, content, size)
SELECT content_hash, content, octet_length(content) FROM workspace_files
ON CONFLICT (content_hash) DO NOTHING;

ALTER TABLE workspace_files
    ALTER COLUMN content_hash SET NOT NULL,
    DROP COLUMN content,
    ADD CONSTRAINT workspace_files_content_fkey FOREIGN KEY (content_hash) REFERENCES workspace_contents (content_hash);

-- "is this content still named by a file" (the prune's unreferenced-content check)
CREATE INDEX workspace_files_content ON workspace_files (content_hash);
