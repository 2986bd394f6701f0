-- A member's file in its set folder is named by the set writer (export/set-writer.ts), whatever the format: the
-- column is `file`, not `png`. faceset.json members keep their `png` key (the file format is unchanged).
ALTER TABLE identity_faces RENAME COLUMN png TO file;
