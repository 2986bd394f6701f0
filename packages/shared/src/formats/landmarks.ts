// 68-point landmarks for the formats, from the engine's own landmark model (fr_landmark.onnx) on the face's detector
// box: face records keep only the 5 alignment points, and DeepFaceLab and faceswap align on 68.
import { join } from 'node:path';
import { createSession } from '../engine/engine';
import { LANDMARK_INPUT_DIMS, LandmarkModel } from '../engine/landmark';
import { SessionModel } from '../engine/onnx-model';
import { loadRuntime } from '../engine/runtime';
import type { Box, Point, RgbImage } from '../engine/types';

let loading: Promise<{ model: LandmarkModel; release: () => Promise<void> }> | null = null;

/** The process's landmark model on the CPU (one thread), loaded on first use. */
export function landmarks68Provider(modelDir: string): (img: RgbImage, box: Box) => Promise<Point[]> {
  return async (img, box) => {
    loading ??= (async () => {
      const runtime = loadRuntime('cpu');
      const session = await createSession(runtime.ort, join(modelDir, 'fr_landmark.onnx'), { intraOpThreads: 1, executionProvider: 'cpu' });
      return { model: new LandmarkModel(new SessionModel(runtime.ort, session, LANDMARK_INPUT_DIMS, 1)), release: () => session.release() };
    })().catch((err: unknown) => {
      loading = null;
      throw err;
    });
    const { model } = await loading;
    const [pts] = await model.landmarks68([{ img, box }]);
    return pts!;
  };
}

/** Releases the model (on close). */
export async function closeLandmarks(): Promise<void> {
  const l = loading;
  loading = null;
  if (l) await (await l.catch(() => null))?.release();
}
