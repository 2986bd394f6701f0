-- A decision is recorded first and written to its folders next; until the write finished, the identity is marked
-- disk_pending, and the next sync of the root (every job and decision starts with one) finishes it.
ALTER TABLE identities ADD COLUMN disk_pending boolean NOT NULL DEFAULT false;
CREATE INDEX identities_disk_pending ON identities (output_root) WHERE disk_pending;
