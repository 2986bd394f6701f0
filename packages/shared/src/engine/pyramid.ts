// Plans the detector's image pyramid: which scales and 320×240 tiles find every face down to minFaceSize.

export const DETECTOR_WIDTH = 320;
export const DETECTOR_HEIGHT = 240;

export interface PyramidConfig {
  /**
   * Smallest face (box height, detector pixels) the pyramid relies on. Measured on colour photos: 20 px
   * scores 0.97–0.99, 16 px 0.87–0.96, 14 px 0.7–0.99; a face first seen below 20 px is scored by its verify
   * look at 40–64 px alone (detect.ts), where twelve 40 px faces in a noisy 6000×4000 photo all scored 1.00.
   * 14 rather than 16 fits a 12 MP photo's finest level in 4×4 tiles instead of 5×5 (23 detector runs, not 35).
   */
  minDetectorFace: number;
  /** Largest scale ratio between neighbouring levels; larger means fewer levels but wider tile overlaps. */
  maxLevelRatio: number;
  /** Largest upscale of a small image at level 0 (faces filling a 150 px crop still fit the 240 px input). */
  maxUpscale: number;
  /**
   * Detector boxes are 1.2–1.45× (typically ~1.4×) taller than wide, so a face whose short side (the box
   * width) is minFaceSize is about this many times minFaceSize tall; levels are planned on box height.
   */
  minBoxAspect: number;
}

export const DEFAULT_PYRAMID: Readonly<PyramidConfig> = Object.freeze({
  minDetectorFace: 14,
  maxLevelRatio: 3,
  maxUpscale: 2,
  minBoxAspect: 1.25,
});

export interface Tile {
  /** Top-left corner in the level image's pixels; the tile may run past the level image (padded). */
  x: number;
  y: number;
}

export interface PyramidLevel {
  /** Source → level scale. */
  scale: number;
  /** Level image size (source size × scale, rounded). */
  width: number;
  height: number;
  tiles: Tile[];
  /** Detections at this level are kept when their box height (detector pixels) lies in [minHeight, maxHeight). */
  minHeight: number;
  maxHeight: number;
  /** Whether tiles overlap, so that a box cut by an inner tile border is found whole in a neighbour. */
  tiled: boolean;
}

/** Evenly spread starts of n windows of `size` over `length` (the first at 0, the last flush with the end). */
function spread(length: number, size: number, minOverlap: number): number[] {
  if (length <= size) return [0];
  const n = Math.ceil((length - minOverlap) / (size - minOverlap));
  return Array.from({ length: n }, (_, i) => Math.round((i * (length - size)) / (n - 1)));
}

/**
 * Level 0 is the whole image letterboxed into one detector input; it is responsible for faces of at least
 * minDetectorFace there. When that leaves faces of minFaceSize too small, finer levels follow, geometrically
 * spaced up to the scale where minFaceSize becomes minDetectorFace, each tiled with overlaps wider than the
 * biggest face it is responsible for (bigger faces belong to coarser levels).
 */
export function planPyramid(
  width: number,
  height: number,
  minFaceSize: number,
  config: PyramidConfig = DEFAULT_PYRAMID,
): PyramidLevel[] {
  const { minDetectorFace: minDet, maxLevelRatio, maxUpscale, minBoxAspect } = config;
  const s0 = Math.min(DETECTOR_WIDTH / width, DETECTOR_HEIGHT / height, maxUpscale);
  const finest = minDet / (minFaceSize * minBoxAspect);
  const level0 = (minHeight: number): PyramidLevel => ({
    scale: s0,
    width: Math.max(1, Math.round(width * s0)),
    height: Math.max(1, Math.round(height * s0)),
    tiles: [{ x: 0, y: 0 }],
    minHeight,
    maxHeight: Infinity,
    tiled: false,
  });
  if (s0 >= finest) return [level0(0)];

  const n = Math.ceil(Math.log(finest / s0) / Math.log(maxLevelRatio) - 1e-9);
  const ratio = (finest / s0) ** (1 / n);
  // 10 % slack on both ends so a face at a boundary is accepted by both levels; NMS merges the pair.
  const slack = 0.1;
  const maxHeight = ratio * minDet * (1 + slack);
  // Faces are taller than wide, so an overlap a little over the tallest responsible box keeps every one whole.
  const overlap = Math.ceil(maxHeight) + 4;
  const levels: PyramidLevel[] = [level0(minDet * (1 - slack))];
  for (let k = n - 1; k >= 0; k--) {
    const scale = finest / ratio ** k;
    const w = Math.max(1, Math.round(width * scale));
    const h = Math.max(1, Math.round(height * scale));
    const xs = spread(w, DETECTOR_WIDTH, overlap);
    const ys = spread(h, DETECTOR_HEIGHT, overlap);
    levels.push({
      scale,
      width: w,
      height: h,
      tiles: ys.flatMap((y) => xs.map((x) => ({ x, y }))),
      minHeight: k === 0 ? 0 : minDet * (1 - slack),
      maxHeight,
      tiled: xs.length > 1 || ys.length > 1,
    });
  }
  return levels;
}

/** Detector runs a plan costs. */
export function pyramidRuns(levels: PyramidLevel[]): number {
  return levels.reduce((n, l) => n + l.tiles.length, 0);
}
