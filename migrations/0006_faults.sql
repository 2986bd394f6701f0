-- Crash accounting per (job, source): how often the embed stage started a file without finishing it, and how often
-- it did so while the file ran alone in its process; a file that crashed twice, once alone, becomes an error record.
ALTER TABLE job_sources
  ADD COLUMN starts      smallint NOT NULL DEFAULT 0,
  ADD COLUMN solo_starts smallint NOT NULL DEFAULT 0;

-- How often the reconciler re-queued a job's work after finding it gone; bounded, then the job fails.
ALTER TABLE jobs ADD COLUMN redrives smallint NOT NULL DEFAULT 0;

-- Callback outbox: the body is stored with the completion (one UPDATE), marked once queued; the reconciler queues
-- what a crash between the two left, so a completed job's callback is queued once, never lost.
ALTER TABLE jobs
  ADD COLUMN callback_body      text,
  ADD COLUMN callback_queued_at timestamptz;
