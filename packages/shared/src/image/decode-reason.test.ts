// Decode reasons: one line, no repeats, and PNG damage named instead of "Unknown error".
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { FIXTURES_DIR } from '../../../../test/support/fixtures';
import { decodeFailureReason, oneLine, pngDamage } from './decode-reason';

it('joins lines, drops repeats and blank lines', () => {
  expect(oneLine('VipsJpeg: premature end\nVipsJpeg: no image\nVipsJpeg: premature end\n\n')).toBe('VipsJpeg: premature end; VipsJpeg: no image');
  expect(oneLine('a'.repeat(400))).toHaveLength(300);
});

it('names a bad CRC and a cut-off PNG', () => {
  const png = readFileSync(join(FIXTURES_DIR, 'misc', 'white.png'));
  expect(pngDamage(png)).toBeNull();
  const bad = Buffer.from(png);
  bad[29] = (bad[29] as number) ^ 0xff; // the IHDR chunk's CRC
  expect(pngDamage(bad)).toBe('its IHDR chunk has a bad CRC (the file is damaged)');
  expect(pngDamage(png.subarray(0, 40))).toBe('the file ends before its IEND chunk (cut off)');
  expect(pngDamage(png.subarray(0, png.length - 14))).toMatch(/^the file is cut off inside its \w{4} chunk$/);
  expect(decodeFailureReason('png', 'Unknown error', bad)).toBe('corrupt or unsupported png: its IHDR chunk has a bad CRC (the file is damaged)');
  expect(decodeFailureReason('jpeg', 'x\nx\n', Buffer.alloc(0))).toBe('corrupt or unsupported jpeg: x');
});
