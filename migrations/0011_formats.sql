-- The formats an output root keeps beside its sets (_formats/<format>/): DeepFaceLab, faceswap, LoRA folders, XMP
-- sidecars, with the settings they are written with. Every job and decision on the root rewrites what changed.
CREATE TABLE output_root_formats (
  output_root text PRIMARY KEY,
  formats text[] NOT NULL DEFAULT '{}',
  params jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);
