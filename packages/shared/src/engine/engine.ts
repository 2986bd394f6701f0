// FaceEngine: one set of ONNX sessions that turns an image file into face records (decode → detect → landmark → embed).
// Pixels come from a PixelSource: the detector sees scaled views, every face step full-resolution pixels around it.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { InferenceSession } from 'onnxruntime-node';
import { fsPath } from '../jobs/fs-path';
import { DecodeError } from '../image/decode';
import { readCaptureTime } from '../image/exif';
import { DecodedSource, fromView, toView, type PixelRequest, type Pixels, type PixelSource } from '../image/source-image';
import type { ModelPack } from '../models/model-pack';
import { arcfaceTransform, ARCFACE_SIZE, warpFootprint } from './align';
import { DETECTOR_INPUT_DIMS, FaceDetector, needsVerify, verifyWindow, type Detection } from './detect';
import { FaceEmbedder, FEATURE_INPUT_DIMS } from './embed';
import { blurOf, facePixels, faceMinScale, openForEngine, viewBox } from './face-pixels';
import { estimatePose, type Pose } from '../curation/pose';
import { SHOT_SIDE, shotThumb, shotTransform } from '../curation/shot-thumb';
import { fivePoints, LANDMARK_INPUT_DIMS, landmarkFootprint, LandmarkModel, type FivePoints } from './landmark';
import type { MessagePort } from 'node:worker_threads';
import { SessionModel, type OnnxModel } from './onnx-model';
import { RemoteModels, type ModelName } from './remote-model';
import { loadRuntime, type Ort } from './runtime';
import type { Face, FileResult, Point, ProcessOptions, RgbImage, StageTimings } from './types';

export const DEFAULT_DET_THRESHOLD = 0.5;
export const DEFAULT_MIN_FACE_SIZE = 40;

export interface FaceEngineOptions {
  pack: ModelPack;
  /** ONNX intra-op threads per session. */
  intraOpThreads: number;
  executionProvider: 'cpu' | 'cuda';
  maxImagePixels: number;
  /** Most items (detector tiles, face crops) per ONNX run; above 1 uses the pack's batch-symbolic copies [1]. */
  batchSize?: number;
  /** CUDA device of this engine's sessions [0]. */
  deviceId?: number;
  /** Run the models in an inference-server thread through this port instead of own sessions (see pool.ts). */
  inference?: { port: MessagePort; info: EngineInfo };
  /** Decode every image whole at full resolution (the reference pixel path, for comparisons) [false]. */
  fullDecode?: boolean;
}

/** What an engine really runs on, for start-up logs and health files. */
export interface EngineInfo {
  executionProvider: 'cpu' | 'cuda';
  /** onnxruntime-node version of the build in use (the GPU build can differ from the CPU one). */
  ortVersion: string;
  deviceId: number | undefined;
  /** Items per ONNX run in use: 1 when the batch copies are missing (see `note`). */
  batchSize: number;
  note?: string;
}

/** Failure of one stage of one file; the message names both. */
export class EngineStageError extends Error {
  constructor(readonly stage: keyof StageTimings | 'read', readonly reason: string, options?: { cause?: unknown }) {
    super(`${stage}: ${reason}`, options);
    this.name = 'EngineStageError';
  }
}

/**
 * Graph optimisation of the feature model on the CPU provider. 'all' adds the NCHWc layout rewrite, which makes this
 * model three times slower on an AVX-512 Xeon (one thread: 66 ms per face, 22 ms at 'extended'), while it makes the
 * detector and landmark models three times faster (2.4 vs 6.8 ms, 0.4 vs 1.2 ms): each model gets its better level.
 */
export const FEATURE_CPU_OPTIMIZATION = 'extended' as const;

export async function createSession(
  ort: Ort,
  path: string,
  opts: Pick<FaceEngineOptions, 'intraOpThreads' | 'executionProvider' | 'deviceId'>,
  level: 'all' | 'extended' = 'all',
): Promise<InferenceSession> {
  try {
    return await ort.InferenceSession.create(path, {
      intraOpNumThreads: opts.intraOpThreads,
      interOpNumThreads: 1,
      // CPU stays second so ORT may place a node CUDA has no kernel for; a CUDA provider that cannot load throws.
      executionProviders: opts.executionProvider === 'cuda' ? [{ name: 'cuda', deviceId: opts.deviceId ?? 0 }, 'cpu'] : ['cpu'],
      graphOptimizationLevel: level,
    });
  } catch (err) {
    const hint = opts.executionProvider === 'cuda' ? ' (the CUDA provider needs CUDA 13 and cuDNN 9: `npm run gpu:install` checks the host)' : '';
    throw new Error(`cannot load model ${path} (${opts.executionProvider}): ${(err as Error).message}${hint}`, { cause: err });
  }
}

export interface LoadedModels<M extends OnnxModel = OnnxModel> {
  models: Record<ModelName, M>;
  info: EngineInfo;
  close(): Promise<void>;
}

/** The pack's three sessions on one provider (the batch copies when batchSize > 1 and they exist). */
export async function loadSessionModels(
  opts: Pick<FaceEngineOptions, 'pack' | 'intraOpThreads' | 'executionProvider' | 'batchSize' | 'deviceId'>,
): Promise<LoadedModels<SessionModel>> {
  const runtime = loadRuntime(opts.executionProvider);
  const wanted = opts.batchSize ?? 1;
  const files = wanted > 1 ? opts.pack.batch : undefined;
  const batchSize = files ? wanted : 1;
  const paths = files ?? opts.pack;
  const featureLevel = opts.executionProvider === 'cpu' ? FEATURE_CPU_OPTIMIZATION : 'all';
  const sessions = await Promise.all([
    createSession(runtime.ort, paths.detect, opts),
    createSession(runtime.ort, paths.landmark, opts),
    createSession(runtime.ort, paths.feature, opts, featureLevel),
  ]);
  const [det, lmk, feat] = sessions as [InferenceSession, InferenceSession, InferenceSession];
  const model = (s: InferenceSession, dims: readonly number[]) => new SessionModel(runtime.ort, s, dims, batchSize);
  return {
    models: { detect: model(det, DETECTOR_INPUT_DIMS), landmark: model(lmk, LANDMARK_INPUT_DIMS), feature: model(feat, FEATURE_INPUT_DIMS) },
    info: {
      executionProvider: opts.executionProvider,
      ortVersion: runtime.version,
      deviceId: opts.executionProvider === 'cuda' ? (opts.deviceId ?? 0) : undefined,
      batchSize,
      ...(wanted > 1 && !files ? { note: `batch size ${wanted} asked, but the batch copies are missing from ${opts.pack.dir}: run \`npm run models\`` } : {}),
    },
    close: async () => {
      await Promise.all(sessions.map((s) => s.release()));
    },
  };
}

function remoteModels({ port, info }: NonNullable<FaceEngineOptions['inference']>): LoadedModels {
  const remote = new RemoteModels(port);
  return {
    models: { detect: remote.model('detect'), landmark: remote.model('landmark'), feature: remote.model('feature') },
    info,
    close: async () => remote.close(),
  };
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
    private readonly closeModels: () => Promise<void>,
    private readonly maxImagePixels: number,
    readonly info: EngineInfo,
    private readonly fullDecode: boolean,
  ) {}

  /** Loads the three sessions, or connects to an inference server; the pack is expected to be verified already. */
  static async create(opts: FaceEngineOptions): Promise<FaceEngine> {
    const { models, info, close } = opts.inference ? remoteModels(opts.inference) : await loadSessionModels(opts);
    return new FaceEngine(
      opts.pack,
      new FaceDetector(models.detect),
      new LandmarkModel(models.landmark),
      new FaceEmbedder(models.feature),
      close,
      opts.maxImagePixels,
      info,
      opts.fullDecode ?? false,
    );
  }

  async close(): Promise<void> {
    await this.closeModels();
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
      const minFaceSize = opts.minFaceSize ?? DEFAULT_MIN_FACE_SIZE;
      let src: PixelSource;
      try {
        src = await openForEngine(buf, { maxPixels: this.maxImagePixels, minFaceSize, fullDecode: this.fullDecode });
      } catch (err) {
        throw new EngineStageError('decode', err instanceof DecodeError ? err.reason : message(err), { cause: err });
      }
      const capturedAt = await readCaptureTime(buf, src.format);
      // `decode` counts reading, hashing and the EXIF date too: all the per-file work before faces are searched.
      const timings: StageTimings = { decode: performance.now() - t0, detect: 0, landmark: 0, embed: 0 };
      const faces = await this.processSource(src, opts, timings);
      return {
        ok: true, path, sha256, size, format: src.format, width: src.width, height: src.height, faces, timings,
        ...(capturedAt ? { capturedAt } : {}),
      };
    } catch (err) {
      return { ok: false, path, sha256, size, error: message(err) };
    }
  }

  /** Detects, landmarks, embeds and measures every face of a decoded image, most confident first. */
  async processImage(img: RgbImage, opts: ProcessOptions = {}, timings?: StageTimings): Promise<Face[]> {
    return this.processSource(new DecodedSource(img, 'png'), opts, timings);
  }

  private async processSource(src: PixelSource, opts: ProcessOptions, timings?: StageTimings): Promise<Face[]> {
    const t = timings ?? { decode: 0, detect: 0, landmark: 0, embed: 0 };
    const detectOpts = {
      detThreshold: opts.detThreshold ?? DEFAULT_DET_THRESHOLD,
      minFaceSize: opts.minFaceSize ?? DEFAULT_MIN_FACE_SIZE,
    };
    const known = opts.knownBoxes;
    const detections: Detection[] = known
      ? await this.stage('detect', src, t, async () => {
          await src.preload(known.map((box): PixelRequest => ({ rect: facePixels(box), minScale: faceMinScale(box) })));
          return known.map((box) => ({ box, score: Number.NaN }));
        })
      : await this.stage('detect', src, t, async () => {
          const candidates = await this.detector.candidates(src, detectOpts);
          // One pass over the full-resolution pixels every later step of every candidate reads.
          await src.preload(
            candidates.flatMap((c): PixelRequest[] => {
              const face = { rect: facePixels(c.box), minScale: faceMinScale(c.box) };
              if (!needsVerify(c)) return [face];
              const w = verifyWindow(c.box, src.width, src.height);
              return [face, { rect: w, minScale: w.scale }];
            }),
          );
          return this.detector.verify(src, candidates, detectOpts);
        });
    const minScales = detections.map((d) => faceMinScale(d.box));
    // All faces of the image go through landmarks together, then through the embedder together; each reads
    // its own pixels (a full-resolution region, or the scaled view for large faces).
    const { kps, poses } = await this.stage('landmark', src, t, async () => {
      const pxs: Pixels[] = [];
      for (const [i, d] of detections.entries()) pxs.push(await src.pixels(landmarkFootprint(d.box), minScales[i]));
      const local = await this.landmarker.landmarks68(detections.map((d, i) => ({ img: pxs[i]!.img, box: viewBox(pxs[i]!, d.box) })));
      const p0 = performance.now();
      // The fit is position and scale free: the view's own coordinates give the pose of the source's.
      const poses: Pose[] = local.map(estimatePose);
      t.pose = (t.pose ?? 0) + performance.now() - p0;
      return { kps: local.map((pts, i) => fivePoints(pts).map((p): Point => fromView(pxs[i]!, p)) as FivePoints), poses };
    });
    if (known) {
      const blurs: number[] = [], shots: Uint8Array[] = [];
      for (const [i, d] of detections.entries()) {
        blurs.push(await blurOf(src, d.box));
        shots.push(await this.shotOf(src, kps[i]!, minScales[i]!));
      }
      return detections.map(({ box }, i) => ({
        box, kps: kps[i]!, detScore: Number.NaN, faceShort: Math.min(box[2] - box[0], box[3] - box[1]), blur: blurs[i]!,
        embedding: new Float32Array(0), pose: poses[i]!, shot: shots[i]!,
      }));
    }
    const { embeddings, blurs, shots } = await this.stage('embed', src, t, async () => {
      const pxs: Pixels[] = [];
      // The warp's footprint is known only now; it is almost always inside the pixels already read.
      for (const [i, k] of kps.entries()) pxs.push(await src.pixels(warpFootprint(arcfaceTransform(k), ARCFACE_SIZE, ARCFACE_SIZE), minScales[i]));
      const embeddings = await this.embedder.embed(kps.map((k, i) => ({ img: pxs[i]!.img, kps: k.map((p) => toView(pxs[i]!, p)) })));
      const blurs: number[] = [], shots: Uint8Array[] = [];
      for (const [i, d] of detections.entries()) {
        blurs.push(await blurOf(src, d.box));
        shots.push(await this.shotOf(src, kps[i]!, minScales[i]!));
      }
      return { embeddings, blurs, shots };
    });
    return detections.map(({ box, score }, i) => ({
      // The detector's own box (clipped to the image), not squared: faceShort is its width for most faces.
      box,
      kps: kps[i]!,
      detScore: score,
      faceShort: Math.min(box[2] - box[0], box[3] - box[1]),
      blur: blurs[i]!,
      embedding: embeddings[i]!,
      pose: poses[i]!,
      shot: shots[i]!,
    }));
  }

  /** The face's shot thumbnail, read from the pixels its aligned crop covers. */
  private async shotOf(src: PixelSource, k: FivePoints, minScale: number): Promise<Uint8Array> {
    const px = await src.pixels(warpFootprint(shotTransform(k), SHOT_SIDE, SHOT_SIDE), minScale);
    return shotThumb(px.img, k.map((p) => toView(px, p)));
  }

  /** Times one stage of a file; pixels the source decodes meanwhile count under `decode`. */
  private async stage<T>(name: 'detect' | 'landmark' | 'embed', src: PixelSource, t: StageTimings, fn: () => Promise<T>): Promise<T> {
    const start = performance.now(), decodeBefore = src.decodeMs;
    try {
      return await fn();
    } catch (err) {
      throw err instanceof EngineStageError ? err : new EngineStageError(name, message(err), { cause: err });
    } finally {
      const decoded = src.decodeMs - decodeBefore;
      t.decode += decoded;
      t[name] += performance.now() - start - decoded;
    }
  }
}
