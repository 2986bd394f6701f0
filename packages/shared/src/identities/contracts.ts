// Contracts of the identities API (issue 7): TypeBox schemas and their static types, shared by the API and the page.
import { Type, type Static } from 'typebox';
import { LABEL_MAX } from './label';

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const literalUnion = <T extends readonly string[]>(values: T, description: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });

export const IDENTITY_STATES = ['active', 'merged', 'deleted'] as const;
export type IdentityState = (typeof IDENTITY_STATES)[number];
export const FACE_ORIGINS = ['discovered', 'routed', 'assigned', 'imported'] as const;
export type FaceOrigin = (typeof FACE_ORIGINS)[number];
export const DECISION_KINDS = ['reject', 'assign', 'merge', 'split', 'label', 'delete', 'undo'] as const;
export type DecisionKind = (typeof DECISION_KINDS)[number];

export const IdentityStateSchema = literalUnion(IDENTITY_STATES, 'active, merged (into another identity) or deleted');
export const FaceOriginSchema = literalUnion(FACE_ORIGINS, 'how the face got into the identity');

export const EraSchema = Type.Object({
  by: Type.String({ description: 'time (capture date) or looks (a tighter sub-cluster)' }),
  from: nullable(Type.String()),
  to: nullable(Type.String()),
});

export const IdentitySummarySchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    outputRoot: Type.String(),
    name: Type.String({ description: 'faceset_NNN, never reused in the output root' }),
    label: nullable(Type.String()),
    path: Type.String({ description: 'folder relative to the output root: faceset_NNN or _thin/faceset_NNN' }),
    count: Type.Integer({ description: 'member faces (PNGs of the folder)' }),
    thin: Type.Boolean(),
    state: IdentityStateSchema,
    version: Type.Integer({ description: 'changes on every change; send it back as If-Match' }),
    mergedInto: nullable(Type.String({ format: 'uuid' })),
    parentId: nullable(Type.String({ format: 'uuid' })),
    era: nullable(EraSchema),
    centroidDistanceP90: Type.Optional(Type.Number({ description: '90th percentile of the members’ distances to the centroid' })),
    contactSheet: nullable(Type.String({ description: 'contact sheet PNG relative to the output root' })),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { description: 'an identity (one face set) of an output root' },
);
export type IdentitySummary = Static<typeof IdentitySummarySchema>;

export const IdentityFaceSchema = Type.Object({
  id: Type.String({ description: 'opaque face id' }),
  file: Type.String({ description: 'the face\'s file in the identity folder (named by the set writer)' }),
  png: Type.String({ description: 'deprecated: the same as `file`, answered for one release (the sets are PNG today)', deprecated: true }),
  sources: Type.Array(Type.String()),
  sha256: Type.String(),
  faceIndex: Type.Integer(),
  box: Type.Array(Type.Number(), { minItems: 4, maxItems: 4 }),
  detScore: Type.Number(),
  faceShort: Type.Number(),
  blur: Type.Number(),
  pose: nullable(
    Type.Object(
      { yaw: Type.Number(), pitch: Type.Number(), roll: Type.Number() },
      { description: 'head pose in degrees: yaw > 0 nose to the image right, pitch > 0 looking up, roll > 0 turned clockwise; null when not measured' },
    ),
  ),
  distance: nullable(Type.Number({ description: 'cosine distance to the identity centroid now' })),
  exported: Type.Boolean({ description: 'a PNG of the set; false: curation leaves it out (see `left`)' }),
  left: nullable(
    Type.Object(
      {
        reason: Type.String({ description: '`near-duplicate of <png>` or `maxFaces`' }),
        duplicateOf: nullable(Type.String({ description: 'face id of the exported face of the same shot' })),
      },
      { description: 'why curation leaves the face out of the export; `assign` brings it back' },
    ),
  ),
  origin: FaceOriginSchema,
  thumb: Type.String({ description: 'URL of the thumbnail' }),
});
export type IdentityFace = Static<typeof IdentityFaceSchema>;

export const IdentityDetailSchema = Type.Object({
  ...IdentitySummarySchema.properties,
  faces: Type.Array(IdentityFaceSchema),
  foreignMembers: Type.Integer({ description: 'faceset.json members that match no face record (kept as they are, not in faces)' }),
});
export type IdentityDetail = Static<typeof IdentityDetailSchema>;

export const IdentityListQuery = Type.Object({
  outputRoot: Type.Optional(Type.String({ minLength: 1, description: 'absolute path under OUTPUT_ROOTS; all adopted roots when absent' })),
  state: Type.Optional(IdentityStateSchema),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  cursor: Type.Optional(Type.String({ maxLength: 400, description: 'nextCursor of the previous page' })),
});
export type IdentityListQuery = Static<typeof IdentityListQuery>;

export const IdentityListSchema = Type.Object({ items: Type.Array(IdentitySummarySchema), nextCursor: nullable(Type.String()) });
export type IdentityList = Static<typeof IdentityListSchema>;

export const IdentityIdParams = Type.Object({ id: Type.String({ format: 'uuid', description: 'identity id' }) });
export const FaceIdParams = Type.Object({ faceId: Type.String({ minLength: 1, maxLength: 400, description: 'face id' }) });
export const ThumbQuery = Type.Object({
  size: Type.Optional(Type.Integer({ minimum: 32, maximum: 512, default: 160, description: 'side in px' })),
  format: Type.Optional(Type.Unsafe<'webp' | 'png'>({ type: 'string', enum: ['webp', 'png'], default: 'webp' })),
});
export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ maxLength: 40, description: 'the identity version the change is based on; 409 when it moved on' })),
});

export const LabelBody = Type.Object({ label: nullable(Type.String({ maxLength: LABEL_MAX, description: 'human name; null or "" clears it' })) }, { additionalProperties: false });
export const FaceIdsBody = Type.Object(
  { faceIds: Type.Array(Type.String({ minLength: 1, maxLength: 400 }), { minItems: 1, maxItems: 10_000, uniqueItems: true }) },
  { additionalProperties: false },
);
export const MergeBody = Type.Object(
  { from: Type.Array(Type.String({ format: 'uuid' }), { minItems: 1, maxItems: 1000, uniqueItems: true }) },
  { additionalProperties: false },
);
export const SyncBody = Type.Object({ outputRoot: Type.String({ minLength: 1 }) }, { additionalProperties: false });

export const DecisionSchema = Type.Object(
  {
    id: Type.String(),
    kind: literalUnion(DECISION_KINDS, 'what was decided'),
    identityId: Type.String({ format: 'uuid', description: 'the identity the decision was made on' }),
    identityIds: Type.Array(Type.String({ format: 'uuid' }), { description: 'every identity it touched' }),
    faceIds: Type.Array(Type.String()),
    detail: Type.Object({}, { additionalProperties: true }),
    actor: Type.String({ description: '"local" (no API token, or a hand edit on disk) or "token:<first 8 hex of its sha256>"' }),
    undoneBy: nullable(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { description: 'one decision of the log' },
);
export type Decision = Static<typeof DecisionSchema>;
export const HistorySchema = Type.Object({ items: Type.Array(DecisionSchema) });

export const FacePairSchema = Type.Object({ faceId: Type.String(), otherFaceId: Type.String(), distance: Type.Number() });
export const SuggestionSchema = Type.Object({
  identity: IdentitySummarySchema,
  centroidDistance: Type.Number(),
  closestPairs: Type.Array(FacePairSchema),
});
export const UncertainFaceSchema = Type.Object({
  faceId: Type.String(),
  distance: Type.Number({ description: 'to this identity’s centroid' }),
  nearestOther: nullable(Type.Object({ identityId: Type.String(), name: Type.String(), distance: Type.Number() })),
  reason: Type.Unsafe<'far' | 'nearer-other'>({ type: 'string', enum: ['far', 'nearer-other'] }),
});
export const SuggestionsSchema = Type.Object({
  band: Type.Object({ from: Type.Number(), to: Type.Number() }),
  merge: Type.Array(SuggestionSchema),
  uncertain: Type.Array(UncertainFaceSchema),
});
export type Suggestions = Static<typeof SuggestionsSchema>;

export const SyncResultSchema = Type.Object({
  outputRoot: Type.String(),
  adopted: Type.Array(Type.String({ description: 'names of folders read into new identities' })),
  rejected: Type.Array(Type.Object({ identityId: Type.String(), name: Type.String(), faceIds: Type.Array(Type.String()), decisionId: Type.String() })),
  missingFolders: Type.Array(Type.String({ description: 'active identities whose folder is gone from disk' })),
  refused: Type.Array(
    Type.Object({ name: Type.String(), reason: Type.String() }),
    { description: 'face set folders the service will not read or write (symlinks), with the reason' },
  ),
});
export type SyncResult = Static<typeof SyncResultSchema>;
