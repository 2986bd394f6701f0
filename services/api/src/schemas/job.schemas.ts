// Request and response schemas of the /jobs routes.
import { Type, type Static } from 'typebox';
import { JobParamsSchema } from '@facesets/shared/params';
import { JOB_MODES, JOB_STATES } from '@facesets/shared/jobs/state';

const literalUnion = <T extends readonly string[]>(values: T, description: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });

export const JobStateSchema = literalUnion(JOB_STATES, 'queued, scanning, embedding, clustering, exporting, completed, failed, cancelled');
export const JobModeSchema = literalUnion(JOB_MODES, 'discover (default), scan (fill the cache only), extend (coverage only) or import (one identity per top-level folder of the bucket)');

export const JobIdParams = Type.Object({ id: Type.String({ format: 'uuid', description: 'job id' }) });
export type JobIdParams = Static<typeof JobIdParams>;

export const CreateJobBody = Type.Object(
  {
    bucket: Type.String({ minLength: 1, description: 'absolute path of the photo folder, under BUCKET_ROOTS' }),
    outputRoot: Type.Optional(
      Type.String({ minLength: 1, description: 'absolute path of the face-set folder, under OUTPUT_ROOTS (discover/extend/import)' }),
    ),
    mode: Type.Optional(JobModeSchema),
    params: Type.Optional(JobParamsSchema),
    force: Type.Optional(Type.Boolean({ description: 're-embed files already recorded by this model pack' })),
    callbackUrl: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL notified when the manifest changes' })),
  },
  { additionalProperties: false },
);
export type CreateJobBody = Static<typeof CreateJobBody>;

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 255, description: 'a repeated request with the same key returns the same job' }),
  ),
});

const Links = Type.Object({ self: Type.String(), report: Type.String() });

export const CreatedJob = Type.Object({ id: Type.String({ format: 'uuid' }), state: JobStateSchema, links: Links });

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const Counters = Type.Object(
  {
    found: Type.Integer({ description: 'image files found (every path)' }),
    skipped: Type.Integer({ description: 'files skipped by extension, or symlinks leading out of the bucket' }),
    aliases: Type.Integer({ description: 'extra paths of byte-duplicates' }),
    cached: Type.Integer({ description: 'distinct sources already recorded by this model pack' }),
    embedded: Type.Integer({ description: 'distinct sources recorded by this job' }),
    noface: Type.Integer({ description: 'sources without a face (cached included)' }),
    errors: Type.Integer({ description: 'unreadable files (cached included)' }),
    faces: Type.Integer({ description: 'faces recorded for the bucket' }),
  },
);

const Stage = Type.Object({
  done: Type.Integer(),
  total: nullable(Type.Integer()),
  state: Type.Unsafe<'pending' | 'running' | 'done'>({ type: 'string', enum: ['pending', 'running', 'done'] }),
});

export const JobView = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    mode: JobModeSchema,
    state: JobStateSchema,
    phase: nullable(Type.String()),
    bucket: Type.String(),
    outputRoot: nullable(Type.String()),
    params: Type.Object({}, { additionalProperties: true }),
    force: Type.Boolean(),
    modelPack: nullable(Type.String()),
    counters: Counters,
    progress: Type.Object({
      percent: Type.Number({ minimum: 0, maximum: 100 }),
      stages: Type.Object({ scan: Stage, embed: Stage, cluster: Stage }),
    }),
    error: nullable(Type.String()),
    summary: nullable(Type.Object({}, { additionalProperties: true })),
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: nullable(Type.String({ format: 'date-time' })),
    finishedAt: nullable(Type.String({ format: 'date-time' })),
    updatedAt: Type.String({ format: 'date-time' }),
    links: Links,
  },
  { $id: 'Job' },
);
export type JobView = Static<typeof JobView>;
export const jobRef = Type.Unsafe<JobView>(Type.Ref('Job'));

export const ListJobsQuery = Type.Object({
  state: Type.Optional(JobStateSchema),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor of the previous page' })),
});
export type ListJobsQuery = Static<typeof ListJobsQuery>;

export const JobList = Type.Object({ items: Type.Array(jobRef), nextCursor: nullable(Type.String()) });

export const ReportBody = Type.Object({}, { additionalProperties: true, description: 'JobReport (SPEC.md step 8)' });

export const ReportQuery = Type.Object({
  format: Type.Optional(
    Type.Unsafe<'json' | 'md'>({ type: 'string', enum: ['json', 'md'], default: 'json', description: 'json (default) or md (text/markdown)' }),
  ),
});
export type ReportQuery = Static<typeof ReportQuery>;

/** The Markdown rendering of a report (GET /jobs/:id/report?format=md). */
export const ReportMarkdown = Type.String({ description: 'JobReport rendered as Markdown' });

/** OpenAPI description of the event stream: `event: state` frames whose data is a Job. */
export const JobEventStream = Type.String({
  description: 'text/event-stream: `event: state` with a Job (JSON) as data on every change, until a terminal state; `: keep-alive` comments every 15 s',
});
