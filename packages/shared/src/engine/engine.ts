// FaceEngine: one set of ONNX sessions that turns an image file into face records (decode → detect → landmark → embed).
// Pixels come from a PixelSource: the detector sees scaled views, every face step full-resolution pixels around it.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InferenceSession } from 'onnxruntime-node';
import { DecodeError } from '../image/decode';
import { DecodedSource, fromView, toView, type PixelRequest, type PixelSource } from '../image/source-image';
import type { ModelPack } from '../models/model-pack';
import { arcfaceTransform, ARCFACE_SIZE, warpFootprint } from './align';
import { blurOf, facePixels, faceMinScale, openForEngine, viewBox } from './face-pixels';
import { FaceDetector, needsVerify, verifyWindow, type Detection } from './detect';
import { FaceEmbedder } from './embed';
import { landmarkFootprint, LandmarkModel } from './landmark';
import type { Face, FileResult, Point, ProcessOptions, RgbImage, StageTimings } from './types';

export const DEFAULT_DET_THRESHOLD = 0.5;
export const DEFAULT_MIN_FACE_SIZE = 40;

export interface FaceEngineOptions {
  pack: ModelPack;
  /** ONNX intra-op threads per session. */
  intraOpThreads: number;
  executionProvider: 'cpu' | 'cuda';
  maxImagePixels: number;
  /** Decode every image whole at full resolution (the reference pixel path, for comparisons) [false]. */
  fullDecode?: boolean;
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
    private readonly fullDecode: boolean,
  ) {}

  /** Loads the three sessions; the pack is expected to be verified already (see loadModelPack). */
  static async create(opts: FaceEngineOptions): Promise<FaceEngine> {
    const sessions = await Promise.all([opts.pack.detect, opts.pack.landmark, opts.pack.feature].map((p) => createSession(p, opts)));
    const [det, lmk, feat] = sessions as [InferenceSession, InferenceSession, InferenceSession];
    return new FaceEngine(
      opts.pack,
      new FaceDetector(det),
      new LandmarkModel(lmk),
      new FaceEmbedder(feat),
      sessions,
      opts.maxImagePixels,
      opts.fullDecode ?? false,
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.release()));
  }

  /** Never throws: any failure becomes `{ok: false, error}` naming the stage. */
  async processFile(path: string, opts: ProcessOptions = {}): Promise<FileResult> {
    let buf: Buffer;
    const t0 = performance.now();
    try {
      buf = await readFile(path);
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
      // `decode` counts reading and hashing the file too: all the per-file work before pixels exist.
      const timings: StageTimings = { decode: performance.now() - t0, detect: 0, landmark: 0, embed: 0 };
      const faces = await this.processSource(src, opts, timings);
      return { ok: true, path, sha256, size, format: src.format, width: src.width, height: src.height, faces, timings };
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
    const detections = await this.stage('detect', src, t, async () => {
      const candidates = await this.detector.candidates(src, detectOpts);
      // One pass over the full-resolution pixels every later step of every candidate reads.
      await src.preload(candidates.flatMap((c): PixelRequest[] => {
        const face = { rect: facePixels(c.box), minScale: faceMinScale(c.box) };
        if (!needsVerify(c)) return [face];
        const w = verifyWindow(c.box, src.width, src.height);
        return [face, { rect: w, minScale: w.scale }];
      }));
      return this.detector.verify(src, candidates, detectOpts);
    });
    const faces: Face[] = [];
    for (const det of detections) faces.push(await this.measure(src, det, t));
    return faces;
  }

  private async measure(src: PixelSource, { box, score }: Detection, t: StageTimings): Promise<Face> {
    const minScale = faceMinScale(box);
    const kps = await this.stage('landmark', src, t, async () => {
      const px = await src.pixels(landmarkFootprint(box), minScale);
      const local = await this.landmarker.fivePoints(px.img, viewBox(px, box));
      return local.map((p): Point => fromView(px, p)) as Face['kps'];
    });
    const { embedding, blur } = await this.stage('embed', src, t, async () => {
      // The warp's footprint is known only now; it is almost always inside the pixels already read.
      const px = await src.pixels(warpFootprint(arcfaceTransform(kps), ARCFACE_SIZE, ARCFACE_SIZE), minScale);
      return {
        embedding: await this.embedder.embed(px.img, kps.map((p): Point => toView(px, p))),
        blur: await blurOf(src, box),
      };
    });
    return {
      // The detector's own box (clipped to the image), not squared: faceShort is its width for most faces.
      box,
      kps,
      detScore: score,
      faceShort: Math.min(box[2] - box[0], box[3] - box[1]),
      blur,
      embedding,
    };
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
