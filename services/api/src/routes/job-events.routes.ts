// GET /jobs/:id/events: server-sent events of a job's state changes, polled from Postgres until it ends.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { isTerminal } from '@facesets/shared/jobs/state';
import { notFound } from '../http-errors';
import { toJobView } from '../jobs.service';
import { errorRef } from '../schemas/error.schema';
import { JobEventStream, JobIdParams } from '../schemas/job.schemas';

export interface JobEventsOptions {
  /** How often the job row is read [500 ms]. Polling Postgres works across API replicas with no extra channel. */
  pollMs?: number;
  /** Comment line that keeps proxies from closing an idle stream [15 s]. */
  heartbeatMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const jobEventsRoutes: FastifyPluginAsyncTypebox<JobEventsOptions> = async (app, opts) => {
  const pollMs = opts.pollMs ?? 500;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  let closing = false;
  // Open streams end themselves on shutdown, so app.close() does not wait for jobs to finish.
  app.addHook('preClose', async () => {
    closing = true;
  });

  app.get(
    '/jobs/:id/events',
    {
      schema: {
        tags: ['jobs'],
        operationId: 'streamJobEvents',
        summary: 'Follow a job: server-sent `state` events on every change, closed after a terminal state',
        params: JobIdParams,
        response: { 200: { content: { 'text/event-stream': { schema: JobEventStream } } }, 400: errorRef, 401: errorRef, 404: errorRef },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      let job = await app.jobs.get(id);
      if (!job) throw notFound(`job ${id} does not exist`);

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      let gone = false;
      res.on('close', () => {
        gone = true;
      });
      let last = '';
      let lastWrite = Date.now();
      try {
        while (!gone && !closing) {
          if (job) {
            const data = JSON.stringify(toJobView(job));
            if (data !== last) {
              res.write(`event: state\ndata: ${data}\n\n`);
              last = data;
              lastWrite = Date.now();
            }
            if (isTerminal(job.state)) break;
          } else break; // deleted meanwhile
          if (Date.now() - lastWrite >= heartbeatMs) {
            res.write(': keep-alive\n\n');
            lastWrite = Date.now();
          }
          await sleep(pollMs);
          if (gone || closing) break;
          job = await app.jobs.get(id);
        }
      } catch (err) {
        request.log.warn({ err, jobId: id }, 'job event stream ended by an error');
      } finally {
        if (!res.writableEnded) res.end();
      }
    },
  );
};

export default jobEventsRoutes;
