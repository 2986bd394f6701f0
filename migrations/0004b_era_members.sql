-- Era sets hold faces their parent identity holds too (the parent stays whole): a face is a member of at most one
-- identity of an output root that is no era, and of at most one era there.

ALTER TABLE identity_faces ADD COLUMN in_era boolean NOT NULL DEFAULT false;
ALTER TABLE identity_faces DROP CONSTRAINT identity_faces_output_root_sha256_face_index_model_pack_key;
CREATE UNIQUE INDEX identity_faces_one_identity ON identity_faces (output_root, sha256, face_index, model_pack) WHERE NOT in_era;
CREATE UNIQUE INDEX identity_faces_one_era ON identity_faces (output_root, sha256, face_index, model_pack) WHERE in_era;
