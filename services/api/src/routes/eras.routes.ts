// POST /identities/:id/eras: one person's faces split into era identities (by capture date, appearance or both).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdentityIdParams, IdentitySummarySchema } from '@facesets/shared/identities/contracts';
import { summaryOf } from '@facesets/shared/identities/identity-service';
import { errorRef } from '../schemas/error.schema';

const EraSplitBody = Type.Object(
  {
    by: Type.Unsafe<'date' | 'appearance' | 'auto'>({
      type: 'string',
      enum: ['date', 'appearance', 'auto'],
      description: 'date (EXIF capture time), appearance (a tighter sub-clustering) or auto (date; undated faces by appearance)',
    }),
    eraGapYears: Type.Optional(Type.Number({ minimum: 0.01, maximum: 200, description: 'date: a gap of at least this many years starts a new era [the job’s, else 3]' })),
    eraThreshold: Type.Optional(Type.Number({ minimum: 0, maximum: 2, description: 'appearance: average-linkage merge distance [the job’s, else 0.45]' })),
  },
  { additionalProperties: false },
);

const EraSplitResult = Type.Object({
  parent: IdentitySummarySchema,
  by: Type.String(),
  eras: Type.Array(IdentitySummarySchema, { description: 'the era identities made, oldest first (each with parentId and era)' }),
  unplaced: Type.Integer({ description: 'faces no era took (undated faces of a date split): they stay in the parent only' }),
  skipped: Type.Optional(Type.String({ description: 'why nothing was split (fewer than two eras)' })),
});

const erasRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/identities/:id/eras',
    {
      schema: {
        tags: ['identities'],
        operationId: 'splitEras',
        summary: 'Split an identity into eras, each its own face set with the identity as parent (which stays as it is)',
        description:
          'Answers 201 with the eras made, or 200 with `skipped` when the faces fall into fewer than two eras. Eras under thinBelow PNGs go to _thin/ and the manifest’s thin_eras; 409 for an era, a retired identity or one that has eras already.',
        params: IdentityIdParams,
        body: EraSplitBody,
        response: { 200: EraSplitResult, 201: EraSplitResult, 400: errorRef, 401: errorRef, 404: errorRef, 409: errorRef },
      },
    },
    async (request, reply) => {
      const { by, ...params } = request.body;
      const out = await app.eras.split(request.params.id, by, params);
      const counts = await app.identities.identities.members([out.parent.id, ...out.eras.map((e) => e.id)]);
      const view = (i: typeof out.parent) => summaryOf(i, counts.get(i.id)?.length ?? 0);
      const body = { parent: view(out.parent), by: out.by, eras: out.eras.map(view), unplaced: out.unplaced, ...(out.skipped ? { skipped: out.skipped } : {}) };
      return reply.status(out.eras.length ? 201 : 200).send(body);
    },
  );
};

export default erasRoutes;
