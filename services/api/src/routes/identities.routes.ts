// /identities and /output-roots/sync: list, show, correct (reject, assign, merge, split, label, delete, undo), history,
// suggestions; every change rewrites the folders, faceset.json files and manifest and publishes the manifest event.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { InvalidIdentityCursorError } from '@facesets/shared/db/identities.repository';
import {
  FaceIdsBody,
  HistorySchema,
  IdentityDetailSchema,
  IdentityIdParams,
  IdentityListQuery,
  IdentityListSchema,
  IfMatchHeaders,
  LabelBody,
  MergeBody,
  SuggestionsSchema,
  SyncBody,
  SyncResultSchema,
} from '@facesets/shared/identities/contracts';
import type { DecisionInput } from '@facesets/shared/identities/identity-service';
import { summaryOf } from '@facesets/shared/identities/identity-service';
import { PathValidationError, resolveAllowedDir } from '@facesets/shared/jobs/paths';
import { badRequest, notFound } from '../http-errors';
import { decisionView, detailView } from '../identities.views';
import { actorOf } from '../plugins/auth';
import { errorRef } from '../schemas/error.schema';

/** If-Match: 7, "7" or W/"7" (the ETag every identity answer carries). */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header === '*') return undefined;
  const m = /^(?:W\/)?"?(\d{1,9})"?$/.exec(header.trim());
  if (!m) throw badRequest('headers/if-match must be an identity version, e.g. "3"');
  return Number(m[1]);
}

const mutating = { 200: IdentityDetailSchema, 400: errorRef, 401: errorRef, 404: errorRef, 409: errorRef };

const identitiesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = app.identities;
  const actor = actorOf(app.config.apiToken);

  async function outputRoot(field: string, value: string): Promise<string> {
    let root: string;
    try {
      root = await resolveAllowedDir(field, value, app.config.outputRoots, 'OUTPUT_ROOTS');
    } catch (err) {
      if (err instanceof PathValidationError) throw badRequest(err.message);
      throw err;
    }
    const why = await service.rootConflict(root);
    if (why) throw badRequest(`${field} ${why}: ${value}`);
    return root;
  }

  /** Runs one decision and answers with the identity it names (or the one it made), ETag = its version. */
  async function decide(id: string, input: DecisionInput, ifMatch: string | undefined, pick: 'identity' | 'created' = 'identity') {
    const out = await service.decide(id, input, { actor, ifMatch: parseIfMatch(ifMatch) });
    const shown = pick === 'created' && out.created ? out.created : out.identity;
    return detailView(await service.detail(shown.id));
  }

  app.get(
    '/identities',
    {
      schema: {
        tags: ['identities'],
        operationId: 'listIdentities',
        summary: 'Identities of an output root (or of every adopted root), by output root and number',
        description: 'Naming an outputRoot adopts its folders the first time and records PNGs deleted by hand as rejections.',
        querystring: IdentityListQuery,
        response: { 200: IdentityListSchema, 400: errorRef, 401: errorRef },
      },
    },
    async (request) => {
      const { state, limit, cursor } = request.query;
      const root = request.query.outputRoot === undefined ? undefined : await outputRoot('querystring/outputRoot', request.query.outputRoot);
      if (root) await service.sync(root);
      try {
        const page = await service.identities.page({ ...(root ? { outputRoot: root } : {}), ...(state ? { state } : {}), limit: limit ?? 100, ...(cursor ? { cursor } : {}) });
        return {
          items: page.items.map((i) => ({ ...summaryOf(i, i.count), ...(i.distanceP90 !== null ? { centroidDistanceP90: i.distanceP90 } : {}) })),
          nextCursor: page.nextCursor,
        };
      } catch (err) {
        if (err instanceof InvalidIdentityCursorError) throw badRequest('querystring/cursor is not valid');
        throw err;
      }
    },
  );

  app.get(
    '/identities/:id',
    {
      schema: {
        tags: ['identities'],
        operationId: 'getIdentity',
        summary: 'An identity with every member face (distance to the centroid now, origin, thumbnail URL)',
        params: IdentityIdParams,
        response: { 200: IdentityDetailSchema, 400: errorRef, 401: errorRef, 404: errorRef },
      },
    },
    async (request, reply) => {
      const view = detailView(await service.detail(request.params.id));
      return reply.header('etag', `"${view.version}"`).send(view);
    },
  );

  app.patch(
    '/identities/:id',
    {
      schema: {
        tags: ['identities'],
        operationId: 'labelIdentity',
        summary: 'Set (or clear) the human label: in faceset.json and the manifest entry; folder names never change',
        params: IdentityIdParams,
        headers: IfMatchHeaders,
        body: LabelBody,
        response: mutating,
      },
    },
    async (request, reply) => {
      const view = await decide(request.params.id, { kind: 'label', label: request.body.label }, request.headers['if-match']);
      return reply.header('etag', `"${view.version}"`).send(view);
    },
  );

  for (const kind of ['reject', 'assign'] as const) {
    app.post(
      `/identities/:id/${kind}`,
      {
        schema: {
          tags: ['identities'],
          operationId: `${kind}Faces`,
          summary:
            kind === 'reject'
              ? 'Not this person: the faces leave the identity and no job brings them back into it'
              : 'Pin faces to this identity, from another identity or from the unclustered faces',
          params: IdentityIdParams,
          headers: IfMatchHeaders,
          body: FaceIdsBody,
          response: mutating,
        },
      },
      async (request, reply) => {
        const view = await decide(request.params.id, { kind, faceIds: request.body.faceIds }, request.headers['if-match']);
        return reply.header('etag', `"${view.version}"`).send(view);
      },
    );
  }

  app.post(
    '/identities/:id/split',
    {
      schema: {
        tags: ['identities'],
        operationId: 'splitFaces',
        summary: 'Move faces off into a new identity, numbered next; answers 201 with the new identity',
        params: IdentityIdParams,
        headers: IfMatchHeaders,
        body: FaceIdsBody,
        response: { 201: IdentityDetailSchema, 400: errorRef, 401: errorRef, 404: errorRef, 409: errorRef },
      },
    },
    async (request, reply) => {
      const view = await decide(request.params.id, { kind: 'split', faceIds: request.body.faceIds }, request.headers['if-match'], 'created');
      return reply.status(201).header('location', `/identities/${view.id}`).header('etag', `"${view.version}"`).send(view);
    },
  );

  app.post(
    '/identities/:id/merge',
    {
      schema: {
        tags: ['identities'],
        operationId: 'mergeIdentities',
        summary: 'Merge other identities into this one: their faces move here, their names are retired, their folders go',
        params: IdentityIdParams,
        headers: IfMatchHeaders,
        body: MergeBody,
        response: mutating,
      },
    },
    async (request, reply) => {
      const view = await decide(request.params.id, { kind: 'merge', from: request.body.from }, request.headers['if-match']);
      return reply.header('etag', `"${view.version}"`).send(view);
    },
  );

  app.post(
    '/identities/:id/undo',
    {
      schema: {
        tags: ['identities'],
        operationId: 'undoDecision',
        summary: 'Revert the last decision on this identity (every identity it touched goes back); 409 if one changed since',
        params: IdentityIdParams,
        headers: IfMatchHeaders,
        response: mutating,
      },
    },
    async (request, reply) => {
      const view = await decide(request.params.id, { kind: 'undo' }, request.headers['if-match']);
      return reply.header('etag', `"${view.version}"`).send(view);
    },
  );

  app.delete(
    '/identities/:id',
    {
      schema: {
        tags: ['identities'],
        operationId: 'deleteIdentity',
        summary: 'Delete the identity: its folder and manifest entry go, its name is retired, its faces stay out of discovery',
        params: IdentityIdParams,
        headers: IfMatchHeaders,
        response: mutating,
      },
    },
    async (request, reply) => {
      const view = await decide(request.params.id, { kind: 'delete' }, request.headers['if-match']);
      return reply.header('etag', `"${view.version}"`).send(view);
    },
  );

  app.get(
    '/identities/:id/contact-sheet',
    {
      schema: {
        tags: ['identities'],
        operationId: 'identityContactSheet',
        summary: 'The identity’s contact sheet (PNG grid of its faces, nearest the centroid first), rewritten after every change',
        params: IdentityIdParams,
        response: { 200: { content: { 'image/png': { schema: Type.String({ format: 'binary' }) } } }, 400: errorRef, 401: errorRef, 404: errorRef },
      },
    },
    async (request, reply) => {
      const sheet = await service.contactSheet(request.params.id);
      if (!sheet) throw notFound(`identity ${request.params.id} has no faces to show`);
      return reply.header('content-type', 'image/png').header('cache-control', 'no-cache').send(sheet as unknown as string); // Buffer body, see faces.routes
    },
  );

  app.get(
    '/identities/:id/history',
    {
      schema: {
        tags: ['identities'],
        operationId: 'identityHistory',
        summary: 'Every decision that touched the identity, newest first (what, which faces/identities, when, who)',
        params: IdentityIdParams,
        response: { 200: HistorySchema, 400: errorRef, 401: errorRef, 404: errorRef },
      },
    },
    async (request) => ({ items: (await service.history(request.params.id)).map(decisionView) }),
  );

  app.get(
    '/identities/:id/suggestions',
    {
      schema: {
        tags: ['identities'],
        operationId: 'identitySuggestions',
        summary: 'Identities close enough to be the same person (centroid distance up to 0.62) with evidence, and the least certain members',
        params: IdentityIdParams,
        response: { 200: SuggestionsSchema, 400: errorRef, 401: errorRef, 404: errorRef },
      },
    },
    async (request) => service.suggestions(request.params.id),
  );

  app.post(
    '/output-roots/sync',
    {
      schema: {
        tags: ['identities'],
        operationId: 'syncOutputRoot',
        summary: 'Adopt unknown face set folders and record PNGs deleted by hand as rejections, now',
        body: SyncBody,
        response: { 200: SyncResultSchema, 400: errorRef, 401: errorRef },
      },
    },
    async (request) => service.sync(await outputRoot('body/outputRoot', request.body.outputRoot)),
  );
};

export default identitiesRoutes;
