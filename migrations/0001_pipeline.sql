-- Jobs, cached per-file results (sources, faces), every path seen (aliases) and what each job saw (job_sources).

CREATE TABLE jobs (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  mode             text NOT NULL CHECK (mode IN ('discover', 'scan', 'extend')),
  bucket           text NOT NULL,
  output_root      text,
  params           jsonb NOT NULL,
  force            boolean NOT NULL DEFAULT false,
  callback_url     text,
  idempotency_key  text UNIQUE,
  request_hash     text,
  state            text NOT NULL DEFAULT 'queued'
                   CHECK (state IN ('queued', 'scanning', 'embedding', 'clustering', 'exporting',
                                    'completed', 'failed', 'cancelled')),
  phase            text,
  model_pack       text,
  -- Written (SET, never incremented) by the scan stage, so a retried scan converges.
  found            integer NOT NULL DEFAULT 0,
  skipped          integer NOT NULL DEFAULT 0,
  aliases          integer NOT NULL DEFAULT 0,
  cached           integer NOT NULL DEFAULT 0,
  to_embed         integer NOT NULL DEFAULT 0,
  scan_errors      integer NOT NULL DEFAULT 0,
  cached_noface    integer NOT NULL DEFAULT 0,
  cached_errors    integer NOT NULL DEFAULT 0,
  cached_faces     integer NOT NULL DEFAULT 0,
  batches          integer NOT NULL DEFAULT 0,
  scan_stats       jsonb,
  -- Incremented by the embed stage, once per (job, source) under the job_sources.processed_at guard.
  embedded         integer NOT NULL DEFAULT 0,
  new_noface       integer NOT NULL DEFAULT 0,
  new_errors       integer NOT NULL DEFAULT 0,
  new_faces        integer NOT NULL DEFAULT 0,
  error            text,
  summary          jsonb,
  report           jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  scanned_at       timestamptz,
  finished_at      timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX jobs_created_idx ON jobs (created_at DESC, id DESC);
CREATE INDEX jobs_state_created_idx ON jobs (state, created_at DESC, id DESC);

-- One row per distinct file content and model pack: the cache a re-scan consults.
CREATE TABLE sources (
  sha256      bytea NOT NULL CHECK (octet_length(sha256) = 32),
  model_pack  text NOT NULL,
  size        bigint,
  format      text,
  width       integer,
  height      integer,
  status      text NOT NULL CHECK (status IN ('ok', 'noface', 'error')),
  reason      text,
  face_count  integer NOT NULL DEFAULT 0,
  job_id      uuid,
  embedded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sha256, model_pack)
);

-- One row per detected face; the embedding is 512 float32 little-endian (2048 bytes).
-- toast_tuple_target keeps the ~2.2 kB rows inline (no TOAST indirection, no futile compression).
CREATE TABLE faces (
  sha256      bytea NOT NULL,
  model_pack  text NOT NULL,
  face_index  smallint NOT NULL,
  box         real[] NOT NULL CHECK (cardinality(box) = 4),
  kps         real[] NOT NULL CHECK (cardinality(kps) = 10),
  det_score   real NOT NULL,
  face_short  real NOT NULL,
  blur        real NOT NULL,
  embedding   bytea NOT NULL CHECK (octet_length(embedding) = 2048),
  PRIMARY KEY (sha256, model_pack, face_index),
  FOREIGN KEY (sha256, model_pack) REFERENCES sources (sha256, model_pack) ON DELETE CASCADE
) WITH (toast_tuple_target = 4080);
ALTER TABLE faces ALTER COLUMN embedding SET STORAGE EXTERNAL;

-- Every path seen, with the content it held when last scanned and the bucket it came from.
CREATE TABLE aliases (
  path         text PRIMARY KEY,
  sha256       bytea NOT NULL,
  bucket       text NOT NULL,
  size         bigint NOT NULL,
  mtime        timestamptz,
  first_seen   timestamptz NOT NULL DEFAULT now(),
  last_seen    timestamptz NOT NULL DEFAULT now(),
  last_job_id  uuid
);
CREATE INDEX aliases_sha256_idx ON aliases (sha256);
CREATE INDEX aliases_bucket_idx ON aliases (bucket);

-- The distinct sources one job saw: whether they were cached, and what the job's embed stage made of them.
CREATE TABLE job_sources (
  job_id        uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  sha256        bytea NOT NULL,
  path          text NOT NULL,
  cached        boolean NOT NULL,
  outcome       text CHECK (outcome IN ('ok', 'noface', 'error')),
  reason        text,
  faces         integer,
  processed_at  timestamptz,
  PRIMARY KEY (job_id, sha256)
);

-- Every path one job saw for each source (the byte-duplicates included), for reports and export.
CREATE TABLE job_paths (
  job_id  uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  path    text NOT NULL,
  sha256  bytea NOT NULL,
  PRIMARY KEY (job_id, path)
);
CREATE INDEX job_paths_sha_idx ON job_paths (job_id, sha256);
