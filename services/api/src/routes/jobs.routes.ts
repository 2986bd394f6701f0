// /jobs: submit, list, show, cancel, report, the report's full per-file lists.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { InvalidCursorError } from '@facesets/shared/db/jobs.repository';
import { ReportsRepository } from '@facesets/shared/db/reports.repository';
import type { Logger } from '@facesets/shared/logger';
import { renderReportMarkdown } from '@facesets/shared/report/markdown';
import type { JobReport } from '@facesets/shared/report/types';
import { badRequest, conflict, notFound } from '../http-errors';
import { JobsService, jobLinks, toJobView } from '../jobs.service';
import { errorRef } from '../schemas/error.schema';
import {
  CreateJobBody,
  CreatedJob,
  IdempotencyHeaders,
  JobIdParams,
  JobList,
  ListJobsQuery,
  ErrorFileList,
  ReportBody,
  ReportMarkdown,
  ReportQuery,
  jobRef,
} from '../schemas/job.schemas';

const jobsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = new JobsService({ config: app.config, rootConflict: (root, bucket) => app.identities.rootConflict(root, bucket), jobs: app.jobs, queues: app.queues, log: app.log as unknown as Logger });

  app.post(
    '/jobs',
    {
      schema: {
        tags: ['jobs'],
        operationId: 'createJob',
        summary: 'Submit a bucket',
        description: 'Validates the paths and parameters, records the job and queues its scan.',
        headers: IdempotencyHeaders,
        body: CreateJobBody,
        response: { 202: CreatedJob, 400: errorRef, 401: errorRef, 409: errorRef, 415: errorRef, 503: errorRef },
      },
    },
    async (request, reply) => {
      const { job, created } = await service.create(request.body, request.headers['idempotency-key']);
      if (!created) reply.header('idempotent-replayed', 'true');
      return reply
        .status(202)
        .header('location', `/jobs/${job.id}`)
        .send({ id: job.id, state: job.state, links: jobLinks(job.id) });
    },
  );

  app.get(
    '/jobs',
    {
      schema: {
        tags: ['jobs'],
        operationId: 'listJobs',
        summary: 'List jobs, newest first',
        querystring: ListJobsQuery,
        response: { 200: JobList, 400: errorRef, 401: errorRef, 503: errorRef },
      },
    },
    async (request) => {
      try {
        const page = await app.jobs.list({
          state: request.query.state,
          limit: request.query.limit ?? 20,
          cursor: request.query.cursor,
        });
        return { items: page.items.map(toJobView), nextCursor: page.nextCursor };
      } catch (err) {
        if (err instanceof InvalidCursorError) throw badRequest('querystring/cursor is not valid');
        throw err;
      }
    },
  );

  app.get(
    '/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        operationId: 'getJob',
        summary: 'State, phase, counters, progress and (once complete) the summary of a job',
        params: JobIdParams,
        response: { 200: jobRef, 400: errorRef, 401: errorRef, 404: errorRef, 503: errorRef },
      },
    },
    async (request) => toJobView(await service.get(request.params.id)),
  );

  app.delete(
    '/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        operationId: 'cancelJob',
        summary: 'Cancel a job: queued work is dropped, running work stops at its next file',
        params: JobIdParams,
        response: { 200: jobRef, 400: errorRef, 401: errorRef, 404: errorRef, 409: errorRef },
      },
    },
    async (request) => toJobView(await service.cancel(request.params.id)),
  );

  app.get(
    '/jobs/:id/report',
    {
      schema: {
        tags: ['jobs'],
        operationId: 'getJobReport',
        summary: 'The job report: the scan part, plus coverage and discovery when they ran (JSON, or Markdown with format=md)',
        params: JobIdParams,
        querystring: ReportQuery,
        response: {
          200: { content: { 'application/json': { schema: ReportBody }, 'text/markdown': { schema: ReportMarkdown } } },
          400: errorRef,
          401: errorRef,
          404: errorRef,
          409: errorRef,
        },
      },
    },
    async (request, reply) => {
      const found = await app.jobs.getReport(request.params.id);
      if (!found) throw notFound(`job ${request.params.id} does not exist`);
      if (!found.report) throw conflict(`job ${request.params.id} has no report yet (state ${found.state})`);
      if (request.query.format === 'md') {
        return reply.type('text/markdown; charset=utf-8').send(renderReportMarkdown(found.report as JobReport));
      }
      return reply.type('application/json; charset=utf-8').send(found.report as Record<string, unknown>);
    },
  );

  const reports = new ReportsRepository(app.db);
  app.get(
    '/jobs/:id/error-files',
    {
      schema: {
        tags: ['jobs'],
        operationId: 'listJobErrorFiles',
        summary: "Every unreadable file of the job with its reason, by path (the report lists the first 100)",
        params: JobIdParams,
        response: { 200: ErrorFileList, 400: errorRef, 401: errorRef, 404: errorRef },
      },
    },
    async (request) => {
      const job = await app.jobs.get(request.params.id);
      if (!job) throw notFound(`job ${request.params.id} does not exist`);
      const files = await reports.errorFiles(job.id, job.modelPack ?? '');
      return { total: files.length, files };
    },
  );
};

export default jobsRoutes;
