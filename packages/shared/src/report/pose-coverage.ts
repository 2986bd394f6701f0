// Pose coverage of a set: counts by yaw and pitch side for the report, and the yaw × pitch dot plot of its contact sheet.
import type { Pose } from '../curation/pose';

/** Beyond this many degrees of yaw (pitch) a face counts as turned (tilted); inside it, frontal. */
export const TURNED_DEGREES = 15;

export interface PoseCoverage {
  /** Faces whose nose points to the image's left (yaw < −15°), frontal, to its right (yaw > 15°). */
  yaw: { left: number; frontal: number; right: number };
  /** Looking down (pitch < −15°), level, up (> 15°). */
  pitch: { down: number; level: number; up: number };
  /** Faces without a measured pose. */
  unknown: number;
}

export function poseCoverage(poses: readonly (Pose | null | undefined)[]): PoseCoverage {
  const c: PoseCoverage = { yaw: { left: 0, frontal: 0, right: 0 }, pitch: { down: 0, level: 0, up: 0 }, unknown: 0 };
  for (const p of poses) {
    if (!p) { c.unknown++; continue; }
    c.yaw[p.yaw < -TURNED_DEGREES ? 'left' : p.yaw > TURNED_DEGREES ? 'right' : 'frontal']++;
    c.pitch[p.pitch < -TURNED_DEGREES ? 'down' : p.pitch > TURNED_DEGREES ? 'up' : 'level']++;
  }
  return c;
}

/** One line for the report: `yaw ← 1 · 3 · 1 →, pitch ↓ 0 · 5 · 0 ↑`. */
export function poseCoverageText(c: PoseCoverage): string {
  const unknown = c.unknown ? `, ${c.unknown} unmeasured` : '';
  return `yaw ← ${c.yaw.left} · ${c.yaw.frontal} · ${c.yaw.right} →, pitch ↓ ${c.pitch.down} · ${c.pitch.level} · ${c.pitch.up} ↑${unknown}`;
}

/** Degrees the plot spans on each side of 0, both axes. */
export const PLOT_RANGE = 60;

/** Where a pose lands on a size×size plot: yaw left to right, pitch up is up; clamped to the frame. */
export function plotPoint(p: Pose, size: number): [x: number, y: number] {
  const t = (v: number): number => Math.max(0, Math.min(1, (v + PLOT_RANGE) / (2 * PLOT_RANGE)));
  return [t(p.yaw) * size, (1 - t(p.pitch)) * size];
}

/** SVG of the yaw × pitch plot: the frontal square, axes every 15°, one dot per face. */
export function poseDotsSvg(poses: readonly (Pose | null | undefined)[], size: number): string {
  const grid: string[] = [];
  for (let d = -PLOT_RANGE; d <= PLOT_RANGE; d += TURNED_DEGREES) {
    const [x] = plotPoint({ yaw: d, pitch: 0, roll: 0 }, size), [, y] = plotPoint({ yaw: 0, pitch: d, roll: 0 }, size);
    const w = d === 0 ? 1.5 : 0.5;
    grid.push(`<line x1="${x}" y1="0" x2="${x}" y2="${size}" stroke="#666" stroke-width="${w}"/>`, `<line x1="0" y1="${y}" x2="${size}" y2="${y}" stroke="#666" stroke-width="${w}"/>`);
  }
  const [fx, fy] = plotPoint({ yaw: -TURNED_DEGREES, pitch: TURNED_DEGREES, roll: 0 }, size);
  const side = (TURNED_DEGREES / (2 * PLOT_RANGE)) * size;
  const dots = poses.flatMap((p) => {
    if (!p) return [];
    const [x, y] = plotPoint(p, size);
    return [`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${Math.max(3, size / 50).toFixed(1)}" fill="#ffb000" fill-opacity="0.85"/>`];
  });
  const label = (x: number, y: number, text: string, anchor = 'middle') =>
    `<text x="${x}" y="${y}" fill="#bbb" font-family="sans-serif" font-size="${Math.round(size / 18)}" text-anchor="${anchor}">${text}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}">`,
    `<rect width="${size}" height="${size}" fill="#181818"/>`,
    `<rect x="${fx}" y="${fy}" width="${2 * side}" height="${2 * side}" fill="#2a2a2a"/>`,
    ...grid,
    ...dots,
    label(size - 4, size / 2 - 4, 'yaw →', 'end'),
    label(size / 2 + 4, 14, 'pitch ↑', 'start'),
    '</svg>',
  ].join('');
}
