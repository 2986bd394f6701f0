import { describe, expect, it } from 'vitest';
import type { IdentityRecord, MemberRecord } from '../db/identities.repository';
import { assignFaces, FaceNotInIdentityError, mergeInto, placement, rejectFaces, updatePlacement, splitOff, type IdentityDraft } from './records';

const sha = (c: string) => c.repeat(64);
const member = (c: string, i = 0): MemberRecord => ({
  sha256: sha(c), faceIndex: i, modelPack: 'p', origin: 'discovered', file: `${c}_${i}.png`, entry: { png: `${c}_${i}.png` },
});
const key = (c: string, i = 0) => ({ sha256: sha(c), faceIndex: i, modelPack: 'p' });
const id = (k: { sha256: string; faceIndex: number }) => `${k.sha256[0]}${k.faceIndex}`;

function draft(name: string, members: MemberRecord[]): IdentityDraft {
  const identity: IdentityRecord = {
    id: `id-${name}`, outputRoot: '/out', name, number: Number(name.slice(-3)), label: null, path: name, thin: false, state: 'active',
    mergedInto: null, parentId: null, era: null, header: {}, foreignMembers: [], centroid: null, centroidModelPack: null, version: 1, createdAt: new Date(0), updatedAt: new Date(0),
  };
  return { identity, members, rejections: [] };
}

describe('decisions on identity records', () => {
  it('merging an era back into its parent keeps each face once', () => {
    const parent = draft('faceset_001', [member('a'), member('b'), member('c')]);
    const era = draft('faceset_002', [member('b'), member('c')]);
    era.identity = { ...era.identity, parentId: parent.identity.id };
    mergeInto(parent, [era]);
    expect(parent.members.map((m) => m.file)).toEqual(['a_0.png', 'b_0.png', 'c_0.png']);
    expect(era.identity.state).toBe('merged');
  });

  it('reject takes the faces out and remembers them; a face that is not a member is named', () => {
    const d = draft('faceset_001', [member('a'), member('b'), member('c')]);
    rejectFaces(d, [key('b')], id);
    expect(d.members.map((m) => m.file)).toEqual(['a_0.png', 'c_0.png']);
    expect(d.rejections).toEqual([key('b')]);
    expect(() => rejectFaces(d, [key('a'), key('b'), key('z', 2)], id)).toThrow(FaceNotInIdentityError);
    expect(() => rejectFaces(d, [key('b'), key('z', 2)], id)).toThrow('faceIds not in identity faceset_001: b0, z2');
    // Nothing changed by the refused call.
    expect(d.members).toHaveLength(2);
  });

  it('assign pins faces to the target, takes them from their holder and lifts a rejection', () => {
    const a = draft('faceset_001', [member('a')]);
    const b = draft('faceset_002', [member('b'), member('c')]);
    rejectFaces(b, [key('c')], id);
    assignFaces(b, [{ member: member('a'), from: a }, { member: member('c'), from: null }]);
    expect(a.members).toEqual([]);
    expect(b.members.map((m) => [m.file, m.origin])).toEqual([['b_0.png', 'discovered'], ['a_0.png', 'assigned'], ['c_0.png', 'assigned']]);
    expect(b.rejections).toEqual([]);
  });

  it('merge moves members and rejections and retires the others', () => {
    const a = draft('faceset_001', [member('a')]);
    const b = draft('faceset_002', [member('b'), member('x')]);
    rejectFaces(b, [key('x')], id);
    mergeInto(a, [b]);
    expect(a.members.map((m) => m.file)).toEqual(['a_0.png', 'b_0.png']);
    expect(a.rejections).toEqual([key('x')]);
    expect(b.identity).toMatchObject({ state: 'merged', mergedInto: 'id-faceset_001' });
    expect(b.members).toEqual([]);
  });

  it('split moves the named members to the new identity', () => {
    const a = draft('faceset_001', [member('a'), member('b'), member('c')]);
    const fresh = draft('faceset_007', []);
    splitOff(a, fresh, [key('c'), key('a')], id);
    expect(a.members.map((m) => m.file)).toEqual(['b_0.png']);
    expect(fresh.members.map((m) => m.file)).toEqual(['a_0.png', 'c_0.png']);
  });

  it('places sets under _thin/ below thinBelow, foreign members counted', () => {
    expect(placement('faceset_004', 3, 4)).toEqual({ thin: true, path: '_thin/faceset_004' });
    expect(placement('faceset_004', 4, 4)).toEqual({ thin: false, path: 'faceset_004' });
    const d = draft('faceset_001', [member('a'), member('b'), member('c')]);
    updatePlacement(d, 4);
    expect(d.identity.path).toBe('_thin/faceset_001');
    d.identity.foreignMembers = [{ png: 'hand.png' }];
    updatePlacement(d, 4);
    expect(d.identity.path).toBe('faceset_001');
  });
});
