import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS } from '../params';
import { discover } from './discover';
import type { DiscoveryFace } from './types';

/** Unit vector in the xy-plane at `deg` degrees; z-axis vectors are orthogonal to all of them. */
const at = (deg: number): Float32Array => Float32Array.of(Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180), 0);

function face(sha: string, embedding: Float32Array, q: Partial<Pick<DiscoveryFace, 'faceShort' | 'blur' | 'detScore'>> = {}): DiscoveryFace {
  return {
    sha256: sha.padEnd(64, '0'),
    faceIndex: 0,
    box: [0, 0, 200, 200],
    kps: [[60, 80], [140, 80], [100, 120], [70, 160], [130, 160]],
    detScore: 0.9,
    faceShort: 200,
    blur: 200,
    embedding,
    paths: [`/b/${sha}.jpg`],
    ...q,
  };
}

describe('discover', () => {
  it('runs the funnel: clusters, gates, outliers, minimum sources, export gates, largest first', async () => {
    const faces = [
      // A: 0°..5° and 40°; one too small, one too blurred; 40° is an outlier at 0.1; 3° is too small to export.
      face('a0', at(0)), face('a1', at(1)), face('a2', at(2)), face('a3', at(3), { faceShort: 95 }),
      face('a4', at(4), { blur: 10 }), face('a5', at(5), { faceShort: 80 }), face('a6', at(40)),
      // B: five faces at 120°..124°, one with a low detector score.
      face('0b0', at(120)), face('0b1', at(121)), face('0b2', at(122)), face('0b3', at(123)), face('0b4', at(124), { detScore: 0.5 }),
      // C: two faces only. D: a lone tiny face far from everything.
      face('c0', at(240)), face('c1', at(241)),
      face('d0', Float32Array.of(0, 0, 1), { faceShort: 50 }),
    ];
    const params = { ...DEFAULT_PARAMS, minFaces: 4, outlierThreshold: 0.1 };
    const { report, plans } = await discover(faces, params);
    expect(report).toEqual({
      faces: 15,
      rawClusters: 4,
      topSizes: [7, 5, 2, 1],
      gateDropped: { minFaceShort: 2, minBlur: 1, minDetScore: 1 },
      outliersDropped: 1,
      tooFewSources: 2, // C (2 sources) and D (emptied by the gates)
      clustersKept: 2,
    });
    // A and B both keep 4 faces: the tie goes to the smaller first sha256 ("0b…" before "a…").
    expect(plans.map((p) => [p.inputFaces, p.sources, p.exportGateDropped, p.outliersDropped, p.members.length])).toEqual([
      [4, 4, 0, 0, 4],
      [4, 4, 1, 0, 3],
    ]);
    expect(plans[1]!.members.map((m) => m.face.sha256.slice(0, 2))).toEqual(['a0', 'a1', 'a2']);
    // Distances are to the centroid of the exported members (0°, 1°, 2° → centroid 1°).
    expect(plans[1]!.members.map((m) => m.distance)).toEqual([
      expect.closeTo(1 - Math.cos(Math.PI / 180), 6),
      expect.closeTo(0, 6),
      expect.closeTo(1 - Math.cos(Math.PI / 180), 6),
    ]);
  });

  it('plans an empty export for a kept cluster whose faces all fail the export size gate', async () => {
    const faces = Array.from({ length: 6 }, (_, i) => face(`e${i}`, at(i), { faceShort: 95 }));
    const { plans } = await discover(faces, DEFAULT_PARAMS);
    expect(plans).toHaveLength(1);
    expect(plans[0]).toMatchObject({ inputFaces: 6, exportGateDropped: 6, members: [], centroid: null });
  });

  it('keeps two faces of one photo apart and counts distinct source files', async () => {
    const twin = (i: number): DiscoveryFace => ({ ...face('p', at(i)), faceIndex: i });
    const { report } = await discover([twin(0), twin(1), face('q', at(2))], { ...DEFAULT_PARAMS, minFaces: 1 });
    expect(report.rawClusters).toBe(2);
  });
});
