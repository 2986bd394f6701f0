import { describe, expect, it } from 'vitest';
import { routeToEras, type RoutedIdentity } from './era-routing';

const v = (...x: number[]) => Float32Array.from(x);
const id = (name: string, centroid: Float32Array, parentId: string | null = null, rejected: string[] = []): RoutedIdentity => ({
  id: name, parentId, centroid, rejected: new Set(rejected),
});
// P is a person (centroid (1,0)); E1 / E2 are its eras, young (0.8,0.6) and old (0.8,−0.6); Q is someone else.
const identities = [id('P', v(1, 0)), id('E1', v(0.8, 0.6), 'P'), id('E2', v(0.8, -0.6), 'P'), id('Q', v(0, 1))];
const face = (sha256: string, ...x: number[]) => ({ sha256, faceIndex: 0, embedding: v(...x) });

describe('routeToEras', () => {
  it('sends a face that reached the parent to its nearest era, and names the parent', () => {
    const faces = [face('a', 0.6, 0.8), face('b', 0.6, -0.8)];
    const routes = [{ identity: 0, member: false, distance: 0.4 }, { identity: 0, member: false, distance: 0.4 }];
    const out = routeToEras(faces, identities, routes, 0.45);
    // a to E1: 1 − (0.48 + 0.48) = 0.04; b to E2 likewise.
    expect(out.map((r) => [r.identity, r.parent, Number(r.distance.toFixed(2))])).toEqual([[1, 0, 0.04], [2, 0, 0.04]]);
  });

  it('falls back to the parent when no era is within the threshold or the era rejected the face', () => {
    const faces = [face('c', 1, 0), face('d', 0.6, 0.8)];
    const rejecting = [identities[0]!, id('E1', v(0.8, 0.6), 'P', ['d:0']), identities[2]!, identities[3]!];
    // c is 0.2 from both eras: above a 0.1 threshold. d would go to E1, which rejected it; E2 is 1 − (0.48 − 0.48) = 1 away.
    const out = routeToEras(faces, rejecting, [{ identity: 1, member: false, distance: 0.2 }, { identity: 0, member: false, distance: 0.4 }], 0.1);
    expect(out.map((r) => [r.identity, r.parent])).toEqual([[0, null], [0, null]]);
    expect(out[0]!.distance).toBeCloseTo(0);
  });

  it('leaves memberships, unrouted faces and people without eras alone', () => {
    const faces = [face('e', 1, 0), face('f', 0, 1), face('g', 0.5, 0.5)];
    const routes = [{ identity: 1, member: true, distance: 0.2 }, { identity: 3, member: false, distance: 0 }, { identity: -1, member: false, distance: 0.9 }];
    expect(routeToEras(faces, identities, routes, 0.45)).toEqual(routes.map((r) => ({ ...r, parent: null })));
  });
});
