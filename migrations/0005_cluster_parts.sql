-- Parts of a discover job's candidate graph (whole connected components) clustered by any cluster worker.
-- Written by the job's cluster step, read and answered (labels) by a cluster-part job, deleted when the step ends.
CREATE TABLE cluster_parts (
  job_id      uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  part        integer NOT NULL,
  -- n rows × dim float32 little-endian, n int32 source ids, the edges as int32 pairs (a then b), all part-local.
  faces       integer NOT NULL,
  dim         integer NOT NULL,
  embeddings  bytea NOT NULL,
  sources     bytea NOT NULL,
  edges       bytea NOT NULL,
  threshold   double precision NOT NULL,
  -- The answer: int32 cluster label per row (clusters in averageLinkage's order), and who computed it.
  labels      bytea,
  worker      text,
  error       text,
  PRIMARY KEY (job_id, part)
);
ALTER TABLE cluster_parts ALTER COLUMN embeddings SET STORAGE EXTERNAL;
