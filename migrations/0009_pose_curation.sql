-- Curation measures of each face (issue 15): head pose [yaw, pitch, roll] in degrees from the 68 landmarks, and the
-- shot thumbnail (32×32 grayscale of the aligned face) near-duplicate shots are compared by. Which definition a
-- cached source's faces carry (curation/pose.ts POSE_VERSION; 0 = none yet): a re-scan re-measures older ones
-- (keypoints, pose, thumbnail and blur of the known boxes, no detection, no embedding), as blur_version does.
ALTER TABLE faces ADD COLUMN pose real[] CHECK (pose IS NULL OR cardinality(pose) = 3);
ALTER TABLE faces ADD COLUMN shot bytea CHECK (shot IS NULL OR octet_length(shot) = 1024);
ALTER TABLE sources ADD COLUMN pose_version smallint NOT NULL DEFAULT 0;
