// Greedy non-maximum suppression of scored boxes, across tiles and pyramid levels.
import type { Box } from './types';

export interface ScoredBox {
  box: Box;
  score: number;
}

function area([x1, y1, x2, y2]: Box): number {
  return Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
}

function intersection(a: Box, b: Box): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  return w > 0 && h > 0 ? w * h : 0;
}

export function iou(a: Box, b: Box): number {
  const i = intersection(a, b);
  return i === 0 ? 0 : i / (area(a) + area(b) - i);
}

/**
 * Keeps the best-scoring box of each overlapping group. A box mostly inside a better one is dropped too:
 * levels and tiles see the same face at different scales and crops, and their boxes differ in shape.
 */
export function nms<T extends ScoredBox>(boxes: T[], iouThreshold = 0.4, containThreshold = 0.8): T[] {
  const sorted = [...boxes].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const cand of sorted) {
    const candArea = area(cand.box);
    const suppressed = kept.some((k) => {
      const i = intersection(k.box, cand.box);
      if (i === 0) return false;
      const union = area(k.box) + candArea - i;
      return i / union >= iouThreshold || i / Math.min(area(k.box), candArea) >= containThreshold;
    });
    if (!suppressed) kept.push(cand);
  }
  return kept;
}
