-- Hand-sorted imports and eras: capture time on each source, import jobs, and the top-level folder of each path.

-- EXIF capture time (DateTimeOriginal, then DateTime; wall clock stored as UTC), written by the embed stage.
ALTER TABLE sources ADD COLUMN captured_at timestamptz;

ALTER TABLE jobs DROP CONSTRAINT jobs_mode_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_mode_check CHECK (mode IN ('discover', 'scan', 'extend', 'import'));

-- Import jobs: the bucket's top-level folder a path lies in (one folder = one person); NULL for other modes.
ALTER TABLE job_paths ADD COLUMN folder text;
