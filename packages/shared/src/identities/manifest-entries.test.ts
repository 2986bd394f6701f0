import { describe, expect, it } from 'vitest';
import { applyIdentities, type IdentityManifestState } from './manifest-entries';

const state = (name: string, over: Partial<IdentityManifestState['identity']> = {}, count = 5): IdentityManifestState => ({
  identity: { id: name, name, label: null, path: name, thin: false, state: 'active', mergedInto: null, header: { source: '/b', jobId: 'j', createdAt: 't' }, ...over },
  count,
});

describe('manifest entries of identities', () => {
  const m = {
    version: 2,
    facesets: [{ name: 'faceset_001', path: 'faceset_001', count: 9, era: 'hand' }, { name: 'faceset_002', path: 'faceset_002', count: 4 }],
    thin_eras: [{ name: 'faceset_003', path: '_thin/faceset_003', count: 2 }],
  };

  it('updates an entry in place, keeping its other keys and the order', () => {
    const out = applyIdentities(m, [state('faceset_001', { label: 'Ada' }, 7)], 'now');
    expect(out.facesets).toEqual([{ name: 'faceset_001', path: 'faceset_001', count: 7, era: 'hand', label: 'Ada' }, m.facesets[1]]);
    expect(out.thin_eras).toEqual(m.thin_eras);
    expect(out.version).toBe(2);
    expect(out).not.toHaveProperty('merged');
  });

  it('moves entries between facesets and thin_eras with their placement, and adds new ones', () => {
    const out = applyIdentities(m, [state('faceset_002', { thin: true, path: '_thin/faceset_002' }, 2), state('faceset_009', {}, 6)], 'now');
    expect(out.facesets.map((e) => (e as { name: string }).name)).toEqual(['faceset_001', 'faceset_009']);
    expect(out.thin_eras).toEqual([m.thin_eras[0], { name: 'faceset_002', path: '_thin/faceset_002', count: 2 }]);
    expect(out.facesets[1]).toEqual({ name: 'faceset_009', path: 'faceset_009', count: 6, source: '/b', jobId: 'j', createdAt: 't' });
  });

  it('lists merged and deleted identities apart, and brings them back on undo', () => {
    const out = applyIdentities(
      m,
      [{ ...state('faceset_002', { state: 'merged', mergedInto: 'faceset_001' }, 0), mergedIntoName: 'faceset_001' }, state('faceset_003', { state: 'deleted' }, 0)],
      '2026-01-01T00:00:00.000Z',
    );
    expect(out.facesets.map((e) => (e as { name: string }).name)).toEqual(['faceset_001']);
    expect(out.thin_eras).toEqual([]);
    expect(out.merged).toEqual([{ name: 'faceset_002', into: 'faceset_001', at: '2026-01-01T00:00:00.000Z' }]);
    expect(out.deleted).toEqual([{ name: 'faceset_003', at: '2026-01-01T00:00:00.000Z' }]);
    const back = applyIdentities(out, [state('faceset_002', {}, 4)], 'later');
    expect(back).not.toHaveProperty('merged');
    expect(back.facesets.map((e) => (e as { name: string }).name)).toEqual(['faceset_001', 'faceset_002']);
  });
});
