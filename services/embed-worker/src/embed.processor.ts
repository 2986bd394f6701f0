// Embed stage: run each file of a batch through the face engine and record face / noface / error per file
// (cached files whose blur, pose or shot thumbnail has an older definition get those re-measured instead).
import { UnrecoverableError } from 'bullmq';
import type { FacesRepository, RecordOutcome } from '@facesets/shared/db/faces.repository';
import { FileGate } from './file-gate';
import type { JobsRepository } from '@facesets/shared/db/jobs.repository';
import type { SourcesRepository } from '@facesets/shared/db/sources.repository';
import type { FileResult, ProcessOptions } from '@facesets/shared/engine/types';
import { isTerminal } from '@facesets/shared/jobs/state';
import type { Logger } from '@facesets/shared/logger';
import type { EmbedMetrics } from '@facesets/shared/metrics/metrics';
import type { EmbedPayload } from '@facesets/shared/queues';

/** What the embed stage needs of the face engine (EnginePool in production). */
export interface Engine {
  readonly modelPackId: string;
  process(path: string, opts?: ProcessOptions): Promise<FileResult>;
}

export interface EmbedDeps {
  jobs: JobsRepository;
  sources: SourcesRepository;
  faces: FacesRepository;
  engine: Engine;
  log: Logger;
  /** True once the process is shutting down: the batch stops at the next file and is released. */
  stopping?: () => boolean;
  /** Shared by every batch of the process, so a file suspected of crashing it runs alone. */
  gate?: FileGate;
  /** Files, faces and the engine's stage times (Prometheus). */
  metrics?: Pick<EmbedMetrics, 'recordFile'>;
}

/** Reason of the error record of a file that killed the worker process twice, the second time running alone. */
export const CRASHED_TWICE =
  'crashed the decoder twice: the embed worker died while processing this file, the second time with no other file in flight; skipped';

export interface EmbedOutcome {
  /** Files recorded by this run. */
  recorded: number;
  /** Files this job had already recorded (a re-run batch). */
  alreadyDone: number;
  /** Why the batch stopped before its end, if it did. */
  stopped?: 'cancelled' | 'shutdown';
}

export async function processEmbed(payload: EmbedPayload, deps: EmbedDeps): Promise<EmbedOutcome> {
  const { jobId, batch, files } = payload;
  const log = deps.log.child({ jobId, stage: 'embed', batch });
  const job = await deps.jobs.get(jobId);
  if (!job || isTerminal(job.state)) return { recorded: 0, alreadyDone: 0, stopped: 'cancelled' };
  const modelPack = deps.engine.modelPackId;
  if (job.modelPack !== modelPack) {
    throw new UnrecoverableError(
      `job ${jobId} was scanned for model pack ${job.modelPack}, this worker runs ${modelPack}`,
    );
  }
  const shas = files.map((f) => f.sha256);
  const done = await deps.sources.processedOf(jobId, shas);
  // A file started before and never finished was in flight when a worker died.
  const crashes = await deps.sources.crashesOf(jobId, shas);
  const gate = deps.gate ?? new FileGate();
  const outcome: EmbedOutcome = { recorded: 0, alreadyDone: done.size };
  for (const file of files) {
    if (done.has(file.sha256)) continue;
    if (deps.stopping?.()) return { ...outcome, stopped: 'shutdown' };
    const state = await deps.jobs.getState(jobId);
    if (state === null || isTerminal(state)) {
      log.info({ state }, 'job ended: batch stops');
      return { ...outcome, stopped: 'cancelled' };
    }
    if (file.reblur) {
      // The engine on the cached boxes: keypoints, pose, shot thumbnail and blur again; no detection, no embedding.
      const knownBoxes = await deps.faces.boxesOf(file.sha256, modelPack);
      const result = await deps.engine.process(file.path, { knownBoxes });
      const recorded = await deps.faces.recordRemeasure(jobId, modelPack, file.sha256, result);
      outcome.recorded += 1;
      if (recorded.status === 'error') {
        log.warn({ file: file.path, reason: result.ok ? 'sha256 changed' : result.error }, 'cached faces left out: re-measure failed');
      } else {
        log.debug({ file: file.path, faces: recorded.faces }, 'blur, pose and shot re-measured');
      }
      continue;
    }
    const crashed = crashes.get(file.sha256);
    let result: FileResult;
    let recorded: RecordOutcome;
    if (crashed && crashed.crashes >= 2 && crashed.soloCrashes >= 1) {
      log.error({ file: file.path, crashes: crashed.crashes }, 'file crashed the worker twice: recorded as an error');
      result = { ok: false, path: file.path, error: CRASHED_TWICE };
      recorded = await deps.faces.recordFile(jobId, modelPack, file.sha256, result);
    } else {
      // A suspect (in flight at a crash, maybe only beside the culprit) runs alone: a second crash then names it.
      // The gate is held until the file is recorded, not only until the engine answered: a file that answered but
      // was not recorded yet when the next (solo) file crashes the process would otherwise count as in flight there.
      const solo = crashed !== undefined;
      ({ result, recorded } = await (solo ? gate.alone.bind(gate) : gate.shared.bind(gate))(async () => {
        await deps.sources.markStarted(jobId, file.sha256, solo);
        const answered = await deps.engine.process(file.path, { detThreshold: job.params.detThreshold });
        try {
          return { result: answered, recorded: await deps.faces.recordFile(jobId, modelPack, file.sha256, answered) };
        } catch (err) {
          // The engine answered: whatever stops the record now (an outage) is no crash of this file.
          await deps.sources.markAnswered(jobId, file.sha256, solo).catch(() => undefined);
          throw err;
        }
      }));
    }
    outcome.recorded += 1;
    deps.metrics?.recordFile(recorded.status === 'ok' ? 'face' : recorded.status, recorded.faces, result);
    if (recorded.status === 'error') {
      log.warn({ file: file.path, reason: result.ok ? 'sha256 changed' : result.error }, 'file recorded as error');
    } else {
      log.debug({ file: file.path, status: recorded.status, faces: recorded.faces }, 'file recorded');
    }
  }
  log.info({ recorded: outcome.recorded, alreadyDone: outcome.alreadyDone }, 'batch done');
  return outcome;
}
