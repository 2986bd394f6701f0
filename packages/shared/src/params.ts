// Per-job parameters (SPEC.md's thresholds) with their defaults and allowed ranges.
import { Type, type Static } from 'typebox';

/** How a job's new identities are split into eras (`none`: not at all). */
export const ERA_SPLITS = ['none', 'date', 'appearance', 'auto'] as const;
export type EraSplit = (typeof ERA_SPLITS)[number];

/** Formats an output root can keep (the one list: formats/write-formats.ts takes it from here). */
export const FORMAT_NAMES = ['dfl', 'faceswap', 'lora', 'xmp'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];
export const DFL_FACE_TYPE_NAMES = ['whole_face', 'full_face', 'head'] as const;
export type DflFaceTypeName = (typeof DFL_FACE_TYPE_NAMES)[number];

const num = (def: number, minimum: number, maximum: number, description: string) =>
  Type.Number({ default: def, minimum, maximum, description });
const int = (def: number, minimum: number, maximum: number, description: string) =>
  Type.Integer({ default: def, minimum, maximum, description });

export const JobParamsSchema = Type.Object(
  {
    detThreshold: num(0.5, 0, 1, 'minimum detector score for a face to be recorded'),
    routeThreshold: num(0.45, 0, 2, 'cosine distance to an existing identity centroid that routes a face to it'),
    clusterThreshold: num(0.55, 0, 2, 'average-linkage merge distance for discovery'),
    minFaceShort: num(90, 0, 100_000, 'discovery gate: minimum face short side, px'),
    minBlur: num(40, 0, 1e9, 'discovery gate: minimum Laplacian variance'),
    minDetScore: num(0.6, 0, 1, 'discovery gate: minimum detector score'),
    outlierThreshold: num(0.55, 0, 2, 'discovery outlier distance from the cluster centroid'),
    minFaces: int(6, 1, 1_000_000, 'minimum distinct source files for a new identity'),
    exportMinFaceShort: num(100, 0, 100_000, 'export gate: minimum face short side, px'),
    exportOutlierThreshold: num(0.45, 0, 2, 'export outlier distance from the cluster centroid'),
    exportSize: int(512, 64, 4096, 'side of the exported square PNG crops, px'),
    thinBelow: int(4, 0, 1_000_000, 'sets with fewer PNGs than this go under _thin/'),
    importAsNew: Type.Boolean({
      default: false,
      description: 'import: make every folder a new identity, even when it matches one already in the output root',
    }),
    eras: Type.Unsafe<EraSplit>({
      type: 'string',
      enum: [...ERA_SPLITS],
      default: 'none',
      description: 'split every new identity of the job into eras: none, date (EXIF), appearance, or auto (date, undated faces by appearance)',
    }),
    eraGapYears: num(3, 0.01, 200, 'date eras: a gap of at least this many years between two photos starts a new era'),
    eraThreshold: num(0.45, 0, 2, 'appearance eras: average-linkage merge distance inside one identity (tighter than clusterThreshold)'),
    dedupe: Type.Boolean({
      default: true,
      description: 'export one face per shot: near-duplicates (resized, re-compressed, cropped, brightened, converted copies, bursts) are left out, listed in faceset.json `left`',
    }),
    maxFaces: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'export at most this many faces per set, chosen to cover yaw × pitch first, then by sharpness and size [no limit]' }),
    ),
    // Formats (issue 16). Optional, so jobs that name none keep their params as they were; the defaults are
    // applied where the formats are written (formats/write-formats.ts formatParamsOf).
    formats: Type.Optional(
      Type.Array(Type.Unsafe<FormatName>({ type: 'string', enum: [...FORMAT_NAMES] }), {
        uniqueItems: true,
        maxItems: FORMAT_NAMES.length,
        description: 'formats the output root keeps beside its sets, under _formats/: dfl (DeepFaceLab), faceswap, lora (kohya DreamBooth folders), xmp (face-region sidecars). The root remembers them; default none',
      }),
    ),
    dflFaceType: Type.Optional(
      Type.Unsafe<DflFaceTypeName>({ type: 'string', enum: [...DFL_FACE_TYPE_NAMES], description: 'dfl: DeepFaceLab face type the faces are aligned for [whole_face]' }),
    ),
    loraSize: Type.Optional(Type.Integer({ minimum: 64, maximum: 4096, description: 'lora: side of the training images, px [1024]' })),
    loraRepeats: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'lora: repeats in the folder name <repeats>_<token> <class> [10]' })),
    loraClass: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9 ]+$', description: 'lora: class word of the folder name and captions [person]' })),
  },
  { additionalProperties: false },
);

export type JobParams = Static<typeof JobParamsSchema>;

export const DEFAULT_PARAMS: JobParams = {
  detThreshold: 0.5,
  routeThreshold: 0.45,
  clusterThreshold: 0.55,
  minFaceShort: 90,
  minBlur: 40,
  minDetScore: 0.6,
  outlierThreshold: 0.55,
  minFaces: 6,
  exportMinFaceShort: 100,
  exportOutlierThreshold: 0.45,
  exportSize: 512,
  thinBelow: 4,
  importAsNew: false,
  eras: 'none',
  eraGapYears: 3,
  eraThreshold: 0.45,
  dedupe: true,
};

export function withDefaults(params: Partial<JobParams> | undefined): JobParams {
  return { ...DEFAULT_PARAMS, ...(params ?? {}) };
}
