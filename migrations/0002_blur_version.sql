-- Which definition of faces.blur each cached source's faces carry (engine/blur.ts BLUR_VERSION; 1 = the first
-- pipeline's, at source resolution), and which of a job's cached sources it re-measures (blur only, no re-embed).
ALTER TABLE sources ADD COLUMN blur_version smallint NOT NULL DEFAULT 1;
ALTER TABLE job_sources ADD COLUMN reblur boolean NOT NULL DEFAULT false;
