-- Every file a job's scan could not read, with the reason: the full list behind the report's bounded one.
CREATE TABLE job_scan_errors (
  job_id  uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  path    text NOT NULL,
  reason  text NOT NULL,
  PRIMARY KEY (job_id, path)
);
