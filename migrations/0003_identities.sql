-- Identities of output roots (one per face set), their member faces, the faces rejected from them, and the log of
-- people's decisions that every later job honours. The folders on disk are the export of these rows.

-- An output root the service has adopted (its folders read into identities once, then kept in step).
CREATE TABLE output_roots (
  path        text PRIMARY KEY,
  adopted_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE identities (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  output_root  text NOT NULL REFERENCES output_roots (path) ON DELETE CASCADE,
  -- faceset_NNN; never reused in an output root, whatever state the identity is in.
  name         text NOT NULL,
  number       integer NOT NULL,
  label        text,
  -- Relative to the output root: faceset_NNN or _thin/faceset_NNN.
  path         text NOT NULL,
  thin         boolean NOT NULL DEFAULT false,
  state        text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'merged', 'deleted')),
  merged_into  uuid REFERENCES identities (id),
  -- Eras (issue 8): a part of one identity over a span of time or looks, with its own face set.
  parent_id    uuid REFERENCES identities (id),
  era          jsonb,
  -- faceset.json without its members (name, source, jobId, createdAt, params and any key a tool added).
  header       jsonb NOT NULL DEFAULT '{}',
  -- Members of an adopted faceset.json that match no face record (kept verbatim, their PNGs never touched).
  foreign_members jsonb NOT NULL DEFAULT '[]',
  -- Re-normalised mean of the members' embeddings (512 float32 LE) of one model pack, kept with every change.
  centroid     bytea CHECK (centroid IS NULL OR octet_length(centroid) = 2048),
  centroid_model_pack text,
  -- Bumped by every change; If-Match compares it.
  version      integer NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (output_root, name),
  UNIQUE (output_root, number)
);
CREATE INDEX identities_root_idx ON identities (output_root, number);
CREATE INDEX identities_parent_idx ON identities (parent_id) WHERE parent_id IS NOT NULL;

-- Member faces by face key; a face is a member of at most one identity of an output root.
CREATE TABLE identity_faces (
  identity_id  uuid NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
  output_root  text NOT NULL,
  sha256       bytea NOT NULL,
  face_index   smallint NOT NULL,
  model_pack   text NOT NULL,
  origin       text NOT NULL CHECK (origin IN ('discovered', 'routed', 'assigned', 'imported')),
  png          text NOT NULL,
  -- The faceset.json member entry (png, sources, sha256, box, kps, detScore, faceShort, blur, distance, …).
  entry        jsonb NOT NULL,
  position     integer NOT NULL,
  added_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (identity_id, sha256, face_index, model_pack),
  UNIQUE (output_root, sha256, face_index, model_pack)
);
CREATE INDEX identity_faces_key_idx ON identity_faces (sha256, face_index, model_pack);

-- "Not this person": never routed, extended, clustered or assigned back into that identity by a job.
CREATE TABLE identity_rejections (
  identity_id  uuid NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
  output_root  text NOT NULL,
  sha256       bytea NOT NULL,
  face_index   smallint NOT NULL,
  model_pack   text NOT NULL,
  decision_id  bigint,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (identity_id, sha256, face_index, model_pack)
);
CREATE INDEX identity_rejections_root_idx ON identity_rejections (output_root);

-- The decision log. `before` holds what undo restores: every affected identity's row, members and rejections.
CREATE TABLE decisions (
  id            bigserial PRIMARY KEY,
  output_root   text NOT NULL REFERENCES output_roots (path) ON DELETE CASCADE,
  identity_id   uuid NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
  kind          text NOT NULL CHECK (kind IN ('reject', 'assign', 'merge', 'split', 'label', 'delete', 'undo')),
  face_ids      text[] NOT NULL DEFAULT '{}',
  identity_ids  uuid[] NOT NULL DEFAULT '{}',
  detail        jsonb NOT NULL DEFAULT '{}',
  before        jsonb NOT NULL DEFAULT '[]',
  -- Version of each affected identity right after the decision: undo refuses when one moved on since.
  after_versions jsonb NOT NULL DEFAULT '{}',
  actor         text NOT NULL,
  undone_by     bigint REFERENCES decisions (id),
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX decisions_identity_idx ON decisions (identity_id, id DESC);
-- Every identity a decision touched, so each one's history and undo see it.
CREATE TABLE decision_identities (
  decision_id  bigint NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
  identity_id  uuid NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
  PRIMARY KEY (identity_id, decision_id)
);
