// /output-roots/formats (which formats a root keeps beside its sets) and /identities/:id/archive (a set as a zip).
import { constants, createReadStream } from 'node:fs';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import archiver from 'archiver';
import { Type } from 'typebox';
import { IdentityIdParams } from '@facesets/shared/identities/contracts';
import { ARCHIVE_FORMATS, type ArchiveFormat } from '@facesets/shared/formats/write-formats';
import { DFL_FACE_TYPE_NAMES, FORMAT_NAMES, type DflFaceTypeName, type FormatName } from '@facesets/shared/params';
import { PathValidationError, resolveAllowedDir } from '@facesets/shared/jobs/paths';
import { badRequest, notFound } from '../http-errors';
import { errorRef } from '../schemas/error.schema';

const FormatList = Type.Array(Type.Unsafe<FormatName>({ type: 'string', enum: [...FORMAT_NAMES] }), { uniqueItems: true, maxItems: FORMAT_NAMES.length });

const FormatSettings = Type.Object(
  {
    dflFaceType: Type.Optional(Type.Unsafe<DflFaceTypeName>({ type: 'string', enum: [...DFL_FACE_TYPE_NAMES], description: 'DeepFaceLab face type [whole_face]' })),
    faceSize: Type.Optional(Type.Integer({ minimum: 64, maximum: 4096, description: 'side of DeepFaceLab and faceswap faces, px [the job’s exportSize, else 512]' })),
    loraSize: Type.Optional(Type.Integer({ minimum: 64, maximum: 4096, description: 'side of LoRA images, px [1024]' })),
    loraRepeats: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'LoRA folder repeats [10]' })),
    loraClass: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9 ]+$', description: 'LoRA class word [person]' })),
  },
  { additionalProperties: false },
);

const FormatsBody = Type.Object(
  {
    outputRoot: Type.String({ minLength: 1, description: 'an output root under OUTPUT_ROOTS' }),
    formats: FormatList,
    params: Type.Optional(FormatSettings),
  },
  { additionalProperties: false },
);

const FormatsResult = Type.Object({
  outputRoot: Type.String(),
  formats: FormatList,
  params: Type.Object({
    dflFaceType: Type.String(),
    faceSize: Type.Integer(),
    loraSize: Type.Integer(),
    loraRepeats: Type.Integer(),
    loraClass: Type.String(),
  }),
  written: FormatList,
  removed: FormatList,
});

const ArchiveQuery = Type.Object(
  { format: Type.Optional(Type.Unsafe<ArchiveFormat>({ type: 'string', enum: [...ARCHIVE_FORMATS], default: 'facesets', description: 'facesets (the PNG set with faceset.json), dfl, faceswap or lora' })) },
  { additionalProperties: false },
);

const formatsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = app.identities;

  app.put(
    '/output-roots/formats',
    {
      schema: {
        tags: ['identities'],
        operationId: 'setOutputRootFormats',
        summary: 'The formats the output root keeps under _formats/ (dfl, faceswap, lora, xmp): enabled ones are written from the records, disabled ones removed; every later job and decision keeps them equal to the records',
        body: FormatsBody,
        response: { 200: FormatsResult, 400: errorRef, 401: errorRef, 409: errorRef },
      },
    },
    async (request) => {
      let root: string;
      try {
        root = await resolveAllowedDir('body/outputRoot', request.body.outputRoot, app.config.outputRoots, 'OUTPUT_ROOTS');
      } catch (err) {
        if (err instanceof PathValidationError) throw badRequest(err.message);
        throw err;
      }
      const why = await service.rootConflict(root);
      if (why) throw badRequest(`body/outputRoot ${why}: ${request.body.outputRoot}`);
      const out = await service.configureFormats(root, request.body.formats, request.body.params);
      return { outputRoot: root, ...out };
    },
  );

  app.get(
    '/identities/:id/archive',
    {
      schema: {
        tags: ['identities'],
        operationId: 'identityArchive',
        summary: 'The identity’s set as a zip, streamed: its PNG set (facesets) or one of the formats the output root keeps (dfl, faceswap, lora)',
        params: IdentityIdParams,
        querystring: ArchiveQuery,
        response: { 200: { content: { 'application/zip': { schema: Type.String({ format: 'binary' }) } } }, 400: errorRef, 401: errorRef, 404: errorRef },
      },
    },
    async (request, reply) => {
      const format = request.query.format ?? 'facesets';
      const found = await service.archiveFiles(request.params.id, format);
      if (!found) {
        throw notFound(format === 'facesets'
          ? `identity ${request.params.id} has no set folder`
          : `identity ${request.params.id} has no ${format} files: enable the format with PUT /output-roots/formats`);
      }
      // Entries are appended one by one from streams opened without following links; nothing is held whole.
      const zip = archiver('zip', { zlib: { level: 1 } });
      zip.on('warning', (err: Error) => request.log.warn({ err }, 'archive warning'));
      zip.on('error', (err: Error) => request.log.error({ err }, 'archive failed'));
      for (const [path, name] of found.files) {
        const already = /\.(png|jpg)$/i.test(name); // compressed images: stored, not deflated again
        // Node's open() takes numeric flags; the typings only list strings.
        zip.append(createReadStream(path, { flags: (constants.O_RDONLY | constants.O_NOFOLLOW) as unknown as string }), { name, store: already });
      }
      void zip.finalize();
      const file = `${found.name}-${format}.zip`.replace(/[^A-Za-z0-9._-]/g, '_');
      return reply.header('content-type', 'application/zip').header('content-disposition', `attachment; filename="${file}"`).send(zip as unknown as string); // stream body, as faces.routes sends Buffers
    },
  );
};

export default formatsRoutes;
