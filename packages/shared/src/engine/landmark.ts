// 68-point landmarks with fr_landmark.onnx on a square grayscale face crop, reduced to the 5 alignment points.
import { cropSquareGray } from '../image/resample';
import type { OnnxModel } from './onnx-model';
import type { Box, Point, RgbImage } from './types';

const SIZE = 64;

/** Item dims of the landmark input, batch dim first. */
export const LANDMARK_INPUT_DIMS = [1, 1, SIZE, SIZE] as const;

export type FivePoints = [Point, Point, Point, Point, Point];

/** The square the landmark model sees: side = box height (the detector box is taller than wide), same centre. */
export function landmarkCrop(box: Box): { x: number; y: number; side: number } {
  const side = box[3] - box[1];
  const cx = (box[0] + box[2]) / 2, cy = (box[1] + box[3]) / 2;
  return { x: cx - side / 2, y: cy - side / 2, side };
}

/** Source pixels the landmark crop reads (its square, and the next pixel for bilinear taps); not clipped. */
export function landmarkFootprint(box: Box): { x: number; y: number; width: number; height: number } {
  const { x, y, side } = landmarkCrop(box);
  const x0 = Math.floor(x) - 1, y0 = Math.floor(y) - 1;
  return { x: x0, y: y0, width: Math.ceil(x + side) + 2 - x0, height: Math.ceil(y + side) + 2 - y0 };
}

/** iBUG 68 → eyes (means of 36–41 and 42–47), nose tip 30, mouth corners 48 and 54. */
export function fivePoints(pts: readonly Point[]): FivePoints {
  if (pts.length !== 68) throw new Error(`landmarks: expected 68 points, got ${pts.length}`);
  const mean = (from: number, to: number): Point => {
    let x = 0, y = 0;
    for (let i = from; i <= to; i++) { x += pts[i]![0]; y += pts[i]![1]; }
    const n = to - from + 1;
    return [x / n, y / n];
  };
  return [mean(36, 41), mean(42, 47), pts[30]!, pts[48]!, pts[54]!];
}

export class LandmarkModel {
  constructor(private readonly model: OnnxModel) {}

  /**
   * 68 points per face, in the coordinates of its image (each face may come with its own image: a region or a
   * scaled view of the photo); the faces' crops go through the model together.
   */
  async landmarks68(faces: readonly { img: RgbImage; box: Box }[]): Promise<Point[][]> {
    const crops = faces.map((f) => landmarkCrop(f.box));
    const outs = await this.model.runMany(faces.length, (k) => {
      const { x, y, side } = crops[k]!;
      const crop = cropSquareGray(faces[k]!.img, x, y, side, SIZE);
      // The reference pipeline scales by 1/256 (not 255); kept so inputs match what the model was used with.
      for (let i = 0; i < crop.length; i++) crop[i] = crop[i]! / 256;
      return crop;
    });
    return outs.map((out, k) => {
      const v = out.output;
      if (!v || v.length !== 136) throw new Error('landmark: unexpected output (want 136 values)');
      const { x, y, side } = crops[k]!;
      const pts: Point[] = [];
      for (let i = 0; i < 68; i++) pts.push([x + v[i * 2]! * side, y + v[i * 2 + 1]! * side]);
      return pts;
    });
  }

  async fivePoints(faces: readonly { img: RgbImage; box: Box }[]): Promise<FivePoints[]> {
    return (await this.landmarks68(faces)).map(fivePoints);
  }
}
