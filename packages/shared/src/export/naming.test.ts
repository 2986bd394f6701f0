import { describe, expect, it } from 'vitest';
import { cropFileName, sanitizeStem } from './naming';

const sha = 'ab12cd34ef567890'.padEnd(64, '0');

describe('crop file names', () => {
  it('is <stem>_<sha8>_<face index>.png from the first path', () => {
    expect(cropFileName({ paths: ['/b/x/IMG_0042.JPG', '/b/y/copy.jpg'], sha256: sha, faceIndex: 3 })).toBe('IMG_0042_ab12cd34_3.png');
  });

  it('makes odd names safe and keeps unicode', () => {
    expect(sanitizeStem('/b/[Originaldateien]/Foto: Oma & Opa?.psd')).toBe('Foto_Oma_&_Opa');
    expect(sanitizeStem('/b/Zoë Ängström.jpeg')).toBe('Zoë_Ängström');
    expect(sanitizeStem('/b/.hidden.png')).toBe('hidden');
    expect(sanitizeStem('/b/...png')).toBe('face');
    expect(sanitizeStem('/b/a\u0001b.tif')).toBe('a_b');
    expect([...sanitizeStem(`/b/${'x'.repeat(300)}.jpg`)]).toHaveLength(80);
  });
});
