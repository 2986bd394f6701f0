// /faces/:faceId/thumb: a face as a small square image, from its identity PNG or cropped from its source; cached.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { FaceIdParams, ThumbQuery } from '@facesets/shared/identities/contracts';
import { errorRef } from '../schemas/error.schema';

const facesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/faces/:faceId/thumb',
    {
      schema: {
        tags: ['faces'],
        operationId: 'faceThumb',
        summary: 'Aligned face crop as a size² WebP (default) or PNG; immutable per face id, size and format',
        params: FaceIdParams,
        querystring: ThumbQuery,
        response: {
          200: { content: { 'image/webp': { schema: Type.String({ format: 'binary' }) }, 'image/png': { schema: Type.String({ format: 'binary' }) } } },
          304: Type.Null({ description: 'If-None-Match matched' }),
          400: errorRef,
          401: errorRef,
          404: errorRef,
        },
      },
    },
    async (request, reply) => {
      const size = request.query.size ?? 160;
      const format = request.query.format ?? 'webp';
      const etag = `"${request.params.faceId}-${size}-${format}"`;
      if (request.headers['if-none-match'] === etag) return reply.status(304).send(null);
      const image = await app.identities.thumb(request.params.faceId, size, format);
      return reply
        .header('content-type', `image/${format}`)
        .header('cache-control', 'private, max-age=86400')
        .header('etag', etag)
        .send(image as unknown as string); // a Buffer body is sent as is; the typed reply only knows the schema's string
    },
  );
};

export default facesRoutes;
