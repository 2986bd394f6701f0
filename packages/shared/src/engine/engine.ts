// FaceEngine: one set of ONNX sessions that turns an image file into face records (decode → detect → landmark → embed).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fsPath } from '../jobs/fs-path';
import { InferenceSession } from 'onnxruntime-node';
import { DecodeError, decodeImageBuffer } from '../image/decode';
import type { ModelPack } from '../models/model-pack';
import { faceBlur } from './blur';
import { FaceDetector, type Detection } from './detect';
import { FaceEmbedder } from './embed';
import { LandmarkModel } from './landmark';
import type { Face, FileResult, ProcessOptions, RgbImage, StageTimings } from './types';

export const DEFAULT_DET_THRESHOLD = 0.5;
export const DEFAULT_MIN_FACE_SIZE = 40;

export interface FaceEngineOptions {
  pack: ModelPack;
  /** ONNX intra-op threads per session. */
  intraOpThreads: number;
  executionProvider: 'cpu' | 'cuda';
  maxImagePixels: number;
}

/** Failure of one stage of one file; the message names both. */
export class EngineStageError extends Error {
  constructor(readonly stage: keyof StageTimings | 'read', readonly reason: string, options?: { cause?: unknown }) {
    super(`${stage}: ${reason}`, options);
    this.name = 'EngineStageError';
  }
}

export async function createSession(
  path: string,
  opts: Pick<FaceEngineOptions, 'intraOpThreads' | 'executionProvider'>,
): Promise<InferenceSession> {
  try {
    return await InferenceSession.create(path, {
      intraOpNumThreads: opts.intraOpThreads,
      interOpNumThreads: 1,
      executionProviders: opts.executionProvider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    throw new Error(`cannot load model ${path} (${opts.executionProvider}): ${(err as Error).message}`, { cause: err });
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class FaceEngine {
  private constructor(
    readonly pack: ModelPack,
    private readonly detector: FaceDetector,
    private readonly landmarker: LandmarkModel,
    private readonly embedder: FaceEmbedder,
    private readonly sessions: InferenceSession[],
    private readonly maxImagePixels: number,
  ) {}

  /** Loads the three sessions; the pack is expected to be verified already (see loadModelPack). */
  static async create(opts: FaceEngineOptions): Promise<FaceEngine> {
    const sessions = await Promise.all([opts.pack.detect, opts.pack.landmark, opts.pack.feature].map((p) => createSession(p, opts)));
    const [det, lmk, feat] = sessions as [InferenceSession, InferenceSession, InferenceSession];
    return new FaceEngine(opts.pack, new FaceDetector(det), new LandmarkModel(lmk), new FaceEmbedder(feat), sessions, opts.maxImagePixels);
  }

  async close(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.release()));
  }

  /** Never throws: any failure becomes `{ok: false, error}` naming the stage. */
  async processFile(path: string, opts: ProcessOptions = {}): Promise<FileResult> {
    let buf: Buffer;
    const t0 = performance.now();
    try {
      buf = await readFile(fsPath(path));
    } catch (err) {
      return { ok: false, path, error: `read: ${message(err)}` };
    }
    const sha256 = createHash('sha256').update(buf).digest('hex');
    const size = buf.length;
    try {
      let decoded;
      try {
        decoded = await decodeImageBuffer(buf, { maxPixels: this.maxImagePixels });
      } catch (err) {
        throw new EngineStageError('decode', err instanceof DecodeError ? err.reason : message(err), { cause: err });
      }
      // `decode` counts reading and hashing the file too: all the per-file work before pixels exist.
      const timings: StageTimings = { decode: performance.now() - t0, detect: 0, landmark: 0, embed: 0 };
      const faces = await this.processImage(decoded, opts, timings);
      return { ok: true, path, sha256, size, format: decoded.format, width: decoded.width, height: decoded.height, faces, timings };
    } catch (err) {
      return { ok: false, path, sha256, size, error: message(err) };
    }
  }

  /** Detects, landmarks, embeds and measures every face of a decoded image, most confident first. */
  async processImage(img: RgbImage, opts: ProcessOptions = {}, timings?: StageTimings): Promise<Face[]> {
    const t = timings ?? { decode: 0, detect: 0, landmark: 0, embed: 0 };
    const detections = await this.stage('detect', t, () =>
      this.detector.detect(img, {
        detThreshold: opts.detThreshold ?? DEFAULT_DET_THRESHOLD,
        minFaceSize: opts.minFaceSize ?? DEFAULT_MIN_FACE_SIZE,
      }),
    );
    const faces: Face[] = [];
    for (const det of detections) faces.push(await this.measure(img, det, t));
    return faces;
  }

  private async measure(img: RgbImage, { box, score }: Detection, t: StageTimings): Promise<Face> {
    const kps = await this.stage('landmark', t, () => this.landmarker.fivePoints(img, box));
    const embedding = await this.stage('embed', t, () => this.embedder.embed(img, kps));
    return {
      // The detector's own box (clipped to the image), not squared: faceShort is its width for most faces.
      box,
      kps,
      detScore: score,
      faceShort: Math.min(box[2] - box[0], box[3] - box[1]),
      blur: faceBlur(img, box),
      embedding,
    };
  }

  private async stage<T>(name: 'detect' | 'landmark' | 'embed', t: StageTimings, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } catch (err) {
      throw err instanceof EngineStageError ? err : new EngineStageError(name, message(err), { cause: err });
    } finally {
      t[name] += performance.now() - start;
    }
  }
}
