import { describe, expect, it } from 'vitest';
import { decodeFaceId, encodeFaceId } from './face-id';

describe('face ids', () => {
  const key = { sha256: 'ab'.repeat(32), faceIndex: 258, modelPack: 'faceplugin-fr@0.0.1' };

  it('round-trip a face key through one URL-safe string', () => {
    const id = encodeFaceId(key);
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    // 32 + 2 + 19 bytes → 53 bytes → ceil(53·4/3) = 71 base64url characters.
    expect(id).toHaveLength(71);
    expect(decodeFaceId(id)).toEqual(key);
  });

  it('refuse strings that are not face ids', () => {
    expect(decodeFaceId('nope')).toBeNull();
    expect(decodeFaceId(`${encodeFaceId(key)}!`)).toBeNull();
    // Exactly 34 bytes: no model pack.
    expect(decodeFaceId(Buffer.alloc(34, 1).toString('base64url'))).toBeNull();
  });
});
