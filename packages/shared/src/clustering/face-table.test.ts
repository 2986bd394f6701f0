import { describe, expect, it } from 'vitest';
import type { Face } from '../engine/types';
import { allocateFaceTable, faceTableOf, sharedRows, tableFace } from './face-table';

const face = (sha: string, faceIndex: number, embedding: Float32Array): Face & { sha256: string; faceIndex: number } => ({
  sha256: sha, faceIndex, box: [1, 2, 3, 4], kps: [[1, 1], [2, 2], [3, 3], [4, 4], [5, 5]], detScore: 0.75, faceShort: 100, blur: 50.5, embedding,
});

describe('faceTableOf', () => {
  it('sorts by (sha256, faceIndex), numbers the sources, and round-trips every field', () => {
    const t = faceTableOf([face('bb', 0, Float32Array.of(0, 1)), face('aa', 1, Float32Array.of(1, 0)), face('aa', 0, Float32Array.of(0.6, 0.8))]).table;
    expect(t.shas).toEqual(['aa', 'bb']);
    expect([...t.source]).toEqual([0, 0, 1]);
    expect([...t.faceIndex]).toEqual([0, 1, 0]);
    expect(tableFace(t, 0)).toEqual(face('aa', 0, Float32Array.of(0.6, 0.8)));
  });

  it('shares the embeddings of faces that are consecutive rows of one buffer, and copies any others', () => {
    const src = allocateFaceTable(3, 2);
    src.embeddings.data.set([1, 0, 0, 1, 0.6, 0.8]);
    src.shas.push('aa', 'bb', 'cc');
    for (let i = 0; i < 3; i++) src.source[i] = i;
    const all = [0, 1, 2].map((i) => tableFace(src, i));
    expect(sharedRows(all, 2)?.data.buffer).toBe(src.embeddings.data.buffer);
    expect(faceTableOf(all).table.embeddings.data.buffer).toBe(src.embeddings.data.buffer);
    // A face left out breaks the run of rows: the table gets its own copy.
    const some = [all[0]!, all[2]!];
    expect(sharedRows(some, 2)).toBeNull();
    const copied = faceTableOf(some).table.embeddings;
    expect(copied.data.buffer).not.toBe(src.embeddings.data.buffer);
    expect([...copied.data]).toEqual([1, 0, Math.fround(0.6), Math.fround(0.8)]);
  });
});
