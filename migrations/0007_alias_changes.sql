-- An alias row changes only when what the path holds changes (content, size, mtime or bucket): a re-scan of an
-- unchanged bucket no longer rewrites half a million rows. Which job saw a path when is in job_paths; these two
-- columns say when the alias last changed, and by which job.
ALTER TABLE aliases RENAME COLUMN last_seen TO changed_at;
ALTER TABLE aliases RENAME COLUMN last_job_id TO changed_by_job;
