// Which files a worker death is blamed on: the embed processor against the real repositories, with an engine whose
// answer for one file is the process dying (the moment is frozen: what Postgres holds then is what a restart reads).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processEmbed, type Engine } from '../../services/embed-worker/src/embed.processor';
import { FileGate } from '../../services/embed-worker/src/file-gate';
import { FacesRepository } from '@facesets/shared/db/faces.repository';
import { JobsRepository } from '@facesets/shared/db/jobs.repository';
import { SourcesRepository } from '@facesets/shared/db/sources.repository';
import type { FileResult } from '@facesets/shared/engine/types';
import { createLogger } from '@facesets/shared/logger';
import { insertScanJob } from '../support/pipeline';
import { createTestEnv, type TestEnv } from '../support/test-env';

let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv();
});

afterAll(async () => {
  await env?.close();
});

const sha = (n: number): string => n.toString(16).padStart(64, '0');

class ProcessDied extends Error {}

/**
 * Answers every file (no face; `slow` after 300 ms) except `poison`, where it snapshots the files a restarted worker
 * would record as having crashed it twice (two unfinished starts, one of them alone), then dies.
 */
class DyingEngine implements Engine {
  readonly modelPackId: string;
  inFlightAtDeath: string[] | null = null;
  private slowStarted!: () => void;
  /** Resolves once the slow file is with the engine. */
  readonly slowRunning = new Promise<void>((resolve) => (this.slowStarted = resolve));
  constructor(
    modelPackId: string,
    private readonly poison: string,
    private readonly slow: string,
    private readonly jobId: string,
  ) {
    this.modelPackId = modelPackId;
  }
  async process(path: string): Promise<FileResult> {
    const n = Number(path.replace(/\D/g, ''));
    if (path === this.poison) {
      const { rows } = await env.db.query<{ path: string }>(
        `SELECT path FROM job_sources
         WHERE job_id = $1 AND starts >= 2 AND solo_starts >= 1 AND processed_at IS NULL ORDER BY path`,
        [this.jobId],
      );
      this.inFlightAtDeath = rows.map((r) => r.path);
      throw new ProcessDied(path);
    }
    if (path === this.slow) {
      this.slowStarted();
      await new Promise((r) => setTimeout(r, 300));
    }
    const timings = { decode: 0, detect: 0, landmark: 0, embed: 0 };
    return { ok: true, path, sha256: sha(n), size: 1, format: 'jpeg', width: 10, height: 10, faces: [], timings };
  }
}

describe('crash attribution in the embed stage', () => {
  it('blames a solo crash on the crashing file alone, not on a suspect that answered just before it', async () => {
    const jobs = new JobsRepository(env.db);
    const sources = new SourcesRepository(env.db);
    const faces = new FacesRepository(env.db);
    const job = await insertScanJob(env, env.bucketsDir);
    const modelPack = 'crash-attribution-pack';
    await env.db.query(`UPDATE jobs SET state = 'embedding', model_pack = $2 WHERE id = $1`, [job.id, modelPack]);
    const file = (n: number) => ({ sha256: sha(n), path: `/photos/${n}.jpg` });
    // 3.jpg runs alone first and is slow to answer: the poison file (first of its batch) waits to run alone meanwhile.
    const batches = [[file(3), file(1), file(2)], [file(5), file(4)]];
    const poison = '/photos/5.jpg';
    const engine = new DyingEngine(modelPack, poison, '/photos/3.jpg', job.id);
    await sources.addJobSources(job.id, modelPack, false, batches.flat());
    // The first crash had 3.jpg and the poison file in flight side by side: both are suspects, each runs alone now.
    await sources.markStarted(job.id, sha(3), false);
    await sources.markStarted(job.id, sha(5), false);

    const gate = new FileGate();
    const deps = { jobs, sources, faces, engine, gate, log: createLogger('test', 'silent') };
    const first = processEmbed({ jobId: job.id, batch: 0, files: batches[0] ?? [] }, deps);
    await engine.slowRunning;
    const second = processEmbed({ jobId: job.id, batch: 1, files: batches[1] ?? [] }, deps);
    const runs = await Promise.allSettled([first, second]);

    expect(runs[0], String((runs[0] as PromiseRejectedResult).reason)).toMatchObject({ status: 'fulfilled', value: { recorded: 3 } });
    expect(runs[1]).toMatchObject({ status: 'rejected' });
    // When the process died, 3.jpg (which answered alone just before) was recorded: a restart blames the poison alone.
    expect(engine.inFlightAtDeath).toEqual([poison]);
    const { rows } = await env.db.query(
      `SELECT path, starts, solo_starts, processed_at IS NOT NULL AS done FROM job_sources WHERE job_id = $1 ORDER BY path`,
      [job.id],
    );
    expect(rows.find((r) => r.path === '/photos/3.jpg')).toMatchObject({ done: true });
    expect(rows.find((r) => r.path === poison)).toMatchObject({ done: false, starts: 2, solo_starts: 1 });
  });
});
