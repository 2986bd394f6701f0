import { describe, expect, it } from 'vitest';
import { facesetMember, serializeFaceset, type FacesetFile } from './faceset-file';

const sha = 'a'.repeat(64);

describe('faceset.json', () => {
  it('has the documented shape, numbers rounded for humans', () => {
    const file: FacesetFile = {
      name: 'faceset_020',
      source: '/mnt/x/src/osrc',
      jobId: 'job-1',
      createdAt: '2026-04-26T10:00:00.000Z',
      params: { clusterThreshold: 0.55 },
      members: [
        facesetMember({
          png: 'IMG_1_aaaaaaaa_0.png',
          paths: ['/mnt/x/src/osrc/IMG_1.jpg', '/mnt/x/src/osrc/copy.jpg'],
          sha256: sha,
          box: [10.123456, 20.5, 130.0000001, 160.987654],
          kps: [[40.111, 60.222], [90.333, 61], [65, 90], [45, 120], [88, 121]],
          detScore: 0.876543,
          faceShort: 120.0000001,
          blur: 244.56789,
          distance: 0.123456,
        }),
      ],
    };
    expect(JSON.parse(serializeFaceset(file))).toEqual({
      name: 'faceset_020',
      source: '/mnt/x/src/osrc',
      jobId: 'job-1',
      createdAt: '2026-04-26T10:00:00.000Z',
      params: { clusterThreshold: 0.55 },
      members: [
        {
          png: 'IMG_1_aaaaaaaa_0.png',
          sources: ['/mnt/x/src/osrc/IMG_1.jpg', '/mnt/x/src/osrc/copy.jpg'],
          sha256: sha,
          box: [10.12, 20.5, 130, 160.99],
          kps: [[40.11, 60.22], [90.33, 61], [65, 90], [45, 120], [88, 121]],
          detScore: 0.8765,
          faceShort: 120,
          blur: 244.57,
          distance: 0.1235,
        },
      ],
    });
  });
});
