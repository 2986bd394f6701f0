// The dashboard's series drawn from /metrics samples taken during a benchmark run, as one PNG (SVG rendered by sharp).
import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';

/** One scrape of one endpoint: every sample line, keyed by its name and labels as written. */
export interface Scrape {
  at: number;
  values: Map<string, number>;
}

/** Parses the text exposition format: `name{labels} value` lines (comments and timestamps skipped). */
export function parseExposition(text: string, at: number): Scrape {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    const value = Number(line.slice(cut + 1));
    if (Number.isFinite(value)) values.set(line.slice(0, cut), value);
  }
  return { at, values };
}

/** The sum of every sample of `name` whose labels include all of `labels` (`k="v"` pairs). */
export function pick(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const [key, value] of s.values) {
    const brace = key.indexOf('{');
    if ((brace < 0 ? key : key.slice(0, brace)) !== name) continue;
    if (wanted.every((w) => key.includes(w))) sum += value;
  }
  return sum;
}

/** histogram_quantile over the bucket increase between two scrapes (linear inside a bucket, as Prometheus does). */
export function quantile(q: number, from: Scrape, to: Scrape, name: string, labels: Record<string, string>): number | null {
  const buckets: { le: number; count: number }[] = [];
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const [key, value] of to.values) {
    if (!key.startsWith(`${name}_bucket{`) || !wanted.every((w) => key.includes(w))) continue;
    const le = /le="([^"]+)"/.exec(key)![1]!;
    buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: value - (from.values.get(key) ?? 0) });
  }
  buckets.sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let prevLe = 0, prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / Math.max(1e-12, b.count - prevCount);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

export interface Series {
  label: string;
  points: [number, number | null][];
}

export interface Panel {
  title: string;
  unit: string;
  series: Series[];
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const W = 640, H = 280, PAD = { l: 64, r: 16, t: 34, b: 54 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v)!;
}

function fmt(v: number, unit: string): string {
  if (unit === 's') return v >= 1 ? `${v.toFixed(1)} s` : `${(v * 1000).toFixed(v < 0.01 ? 1 : 0)} ms`;
  if (unit === '%') return `${(v * 100).toFixed(0)} %`;
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(2)));
}

function panelSvg(panel: Panel, x0: number, y0: number, tMax: number): string {
  const values = panel.series.flatMap((s) => s.points.map((p) => p[1]).filter((v): v is number => v !== null));
  const yMax = niceMax(Math.max(0, ...values));
  const pw = W - PAD.l - PAD.r, ph = H - PAD.t - PAD.b;
  const sx = (t: number) => x0 + PAD.l + (pw * t) / Math.max(1e-9, tMax);
  const sy = (v: number) => y0 + PAD.t + ph - (ph * v) / yMax;
  const out: string[] = [
    `<rect x="${x0 + 4}" y="${y0 + 4}" width="${W - 8}" height="${H - 8}" fill="#fff" stroke="#ccc"/>`,
    `<text x="${x0 + PAD.l}" y="${y0 + 22}" font-size="15" font-weight="bold">${esc(panel.title)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4, y = sy(v);
    out.push(`<line x1="${sx(0)}" x2="${sx(tMax)}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    out.push(`<text x="${x0 + PAD.l - 6}" y="${y + 4}" font-size="11" text-anchor="end">${esc(fmt(v, panel.unit))}</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const t = (tMax * i) / 5;
    out.push(`<text x="${sx(t)}" y="${y0 + PAD.t + ph + 16}" font-size="11" text-anchor="middle">${t.toFixed(0)} s</text>`);
  }
  panel.series.forEach((s, k) => {
    const colour = COLOURS[k % COLOURS.length]!;
    // A gap (null) breaks the line: no data there (an empty histogram window).
    let d = '', pen = false;
    for (const [t, v] of s.points) {
      if (v === null) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${sx(t).toFixed(1)},${sy(v).toFixed(1)} `;
      pen = true;
    }
    if (d) out.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.8"/>`);
    const lx = x0 + PAD.l + (k % 4) * 140, ly = y0 + H - 22 + Math.floor(k / 4) * 14;
    out.push(`<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${colour}"/>`);
    out.push(`<text x="${lx + 14}" y="${ly}" font-size="11">${esc(s.label)}</text>`);
  });
  return out.join('\n');
}

/** Draws the panels two per row under a title and writes a PNG. */
export async function renderPng(file: string, title: string, panels: Panel[], tMax: number): Promise<void> {
  const rows = Math.ceil(panels.length / 2);
  const width = 2 * W, height = rows * H + 40;
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="100%" height="100%" fill="#f6f6f6"/>`,
    `<text x="16" y="27" font-size="17" font-weight="bold">${esc(title)}</text>`,
    ...panels.map((p, i) => panelSvg(p, (i % 2) * W, 40 + Math.floor(i / 2) * H, tMax)),
    '</svg>',
  ].join('\n');
  await writeFile(file, await sharp(Buffer.from(svg)).png().toBuffer());
}
